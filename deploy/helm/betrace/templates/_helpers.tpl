{{- define "betrace.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "betrace.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "betrace.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The Secret holding tokens, the tenants file and DATABASE_URL: the user's or the chart's. */}}
{{- define "betrace.secretName" -}}
{{- default (include "betrace.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "betrace.hasDatabase" -}}
{{- if or .Values.database.url .Values.database.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* Refuse settings that would render a broken or unsafe deployment. */}}
{{- define "betrace.validate" -}}
{{- if not (kindIs "float64" .Values.replicas | or (kindIs "int" .Values.replicas) | or (kindIs "int64" .Values.replicas)) -}}
{{- fail (printf "replicas must be a number, got %v" .Values.replicas) -}}
{{- end -}}
{{- if lt (int .Values.replicas) 1 -}}
{{- fail (printf "replicas must be at least 1, got %v" .Values.replicas) -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not (include "betrace.hasDatabase" .)) -}}
{{- fail (printf "replicas=%v needs shared state: set database.url (postgres://…) or database.existingSecret; with SQLite (the default) each replica would keep its own signals and evidence. See docs/scaling.md." .Values.replicas) -}}
{{- end -}}
{{- if and (gt (int .Values.replicas) 1) (not (or .Values.auth.apiToken .Values.auth.existingSecret .Values.auth.tenantsFile)) -}}
{{- fail (printf "replicas=%v needs one API token for all of them: set auth.apiToken, auth.tenantsFile or auth.existingSecret; without one each replica generates its own in its data folder and Grafana can reach only one." .Values.replicas) -}}
{{- end -}}
{{- if and .Values.database.url (not (regexMatch "^postgres(ql)?://" .Values.database.url)) -}}
{{- fail (printf "database.url must be a postgres:// or postgresql:// URL, got %q" .Values.database.url) -}}
{{- end -}}
{{- if and .Values.persistence.enabled (gt (int .Values.replicas) 1) (has "ReadWriteOnce" .Values.persistence.accessModes) -}}
{{- fail (printf "persistence with accessModes ReadWriteOnce cannot be shared by replicas=%v: one claim would be mounted by every pod. Keep persistence.enabled=false (per-pod emptyDirs, shared state in PostgreSQL) or use replicas=1." .Values.replicas) -}}
{{- end -}}
{{- if and .Values.auth.existingSecret (or .Values.auth.apiToken .Values.auth.metricsToken .Values.auth.tenantsFile) -}}
{{- fail "auth.existingSecret is set together with auth.apiToken, auth.metricsToken or auth.tenantsFile: put those values in your Secret instead" -}}
{{- end -}}
{{- end -}}
