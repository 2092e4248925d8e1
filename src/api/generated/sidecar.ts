/**
 * GENERATED from the sidecar's OpenAPI document (GET /api/v1/openapi.json) by `npm run api:types`:
 * do not edit. Change the route schemas in packages/sidecar/src (and src/openapi.ts), then run it.
 */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["getHealthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the store is open and the rules are loaded (and, in pull mode, whether Tempo answers) */
        get: operations["getReadyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics (with METRICS_TOKEN set, behind that bearer token) */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List rules */
        get: operations["getApiV1Rules"];
        put?: never;
        /** Create a rule */
        post: operations["postApiV1Rules"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rules/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get a rule */
        get: operations["getApiV1RulesById"];
        /** Update a rule (a new version) */
        put: operations["putApiV1RulesById"];
        post?: never;
        /** Delete a rule */
        delete: operations["deleteApiV1RulesById"];
        options?: never;
        head?: never;
        /** Change some fields of a rule (enable, disable, rename, severity …) without resending it: a new version */
        patch: operations["patchApiV1RulesById"];
        trace?: never;
    };
    "/api/v1/rules/{id}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Versions of a rule, newest first (none for an unknown rule) */
        get: operations["getApiV1RulesByIdHistory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rules/{id}/rollback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make an earlier version current (as a new version) */
        post: operations["postApiV1RulesByIdRollback"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rules/validate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Diagnostics and TraceQL pushdown of a rule condition, checked against the span names of the tenant's other rules */
        post: operations["postApiV1RulesValidate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rules/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Evaluate a rule (saved or not) over inline OTLP/JSON traces, with the explanation per trace */
        post: operations["postApiV1RulesTest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/signals": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List signals, newest first */
        get: operations["getApiV1Signals"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/signals/summary": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Per rule, the number of signals in [from, to) and when the newest was created (rules without one are left out) */
        get: operations["getApiV1SignalsSummary"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/signals/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A signal with its status changes */
        get: operations["getApiV1SignalsById"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change a signal’s status (who and when are recorded) */
        patch: operations["patchApiV1SignalsById"];
        trace?: never;
    };
    "/api/v1/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replay rules (saved, or an unsaved draft) over a past time range in Tempo, or in the sidecar’s history of recent traces without Tempo, as a job */
        post: operations["postApiV1Replay"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/replay/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A replay job: progress, and the violations of a dry run */
        get: operations["getApiV1ReplayById"];
        put?: never;
        post?: never;
        /** Cancel a replay job */
        delete: operations["deleteApiV1ReplayById"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/cluster/leases": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Which replica holds which lease on the caller’s tenant’s pull windows and replay jobs, and the shared watermark */
        get: operations["getApiV1ClusterLeases"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The audit log of the caller’s tenant (rule and signal changes, exports, key rotations), newest first */
        get: operations["getApiV1Audit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Daily usage totals (UTC days) of the caller’s tenant: spans, bytes, traces evaluated, signals, evidence records */
        get: operations["getApiV1Usage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/evidence": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Evidence records with their verification, the chain’s verification summary and pass/fail per control */
        get: operations["getApiV1Evidence"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/evidence/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Export evidence for auditors (CSV, JSON with the signed attributes, or a PDF report); recorded in the audit log */
        get: operations["getApiV1EvidenceExport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/evidence/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tenant’s evidence keys (ids and state, never the secrets) */
        get: operations["getApiV1EvidenceKeys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/evidence/keys/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rotate the evidence signing key: a new current key; older keys stay for verification. A generated secret is returned once. */
        post: operations["postApiV1EvidenceKeysRotate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rules/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health of every rule of the tenant over a range (no series) */
        get: operations["getApiV1RulesHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rules/{id}/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health of one rule over a range, with its hourly series */
        get: operations["getApiV1RulesByIdHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/rules/{id}/slo": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A rule’s objective: compliance over its window, error budget remaining, burn rates and alert state */
        get: operations["getApiV1RulesByIdSlo"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/slos": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every rule with an objective, with its budget and burn rates */
        get: operations["getApiV1Slos"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/discover": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The tenant’s discovery jobs, newest first (without their suggestions) */
        get: operations["getApiV1Discover"];
        put?: never;
        /** Start invariant discovery over a time range of the tenant’s traces (Tempo or the sidecar’s history), as a job */
        post: operations["postApiV1Discover"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/discover/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A discovery job with its suggestions, best first (dismissed ones included) */
        get: operations["getApiV1DiscoverById"];
        put?: never;
        post?: never;
        /** Cancel a running discovery job, or delete a finished one with its results */
        delete: operations["deleteApiV1DiscoverById"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/discover/{id}/suggestions/{sid}/adopt": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Adopt a suggestion: a rule (disabled unless enabled is true) whose first version is the suggestion, its provenance in the description */
        post: operations["postApiV1DiscoverByIdSuggestionsBySidAdopt"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/discover/{id}/suggestions/{sid}/dismiss": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Dismiss a suggestion: this tenant’s later discoveries do not propose it again */
        post: operations["postApiV1DiscoverByIdSuggestionsBySidDismiss"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/discover/{id}/traces/{traceId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One trace of a discovery job’s range as OTLP/JSON (from the history, or from Tempo by id), redacted like every echo of span data */
        get: operations["getApiV1DiscoverByIdTracesByTraceId"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document (no token needed) */
        get: operations["getApiV1OpenapiJson"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description Every error answer; invalid_rule answers carry the diagnostics (line and column) too */
        Error: {
            /** @description A stable code: invalid_request, invalid_rule, not_found, conflict, unauthorized … */
            error: string;
            message: string;
            diagnostics?: components["schemas"]["Diagnostic"][];
        };
        Diagnostic: {
            /** @enum {string} */
            severity: "error" | "warning" | "info";
            message: string;
            code?: string;
            startLine: number;
            startColumn: number;
            endLine: number;
            endColumn: number;
            ruleId?: string;
            ruleIndex?: number;
            field?: string;
        };
        ComplianceMapping: {
            framework: string;
            control: string;
        };
        /** @description A rule’s objective (docs/slo.md); rule bodies may also send { objective: "99.9%", window: "30d" } */
        RuleSlo: {
            /** @description The fraction of triggering traces that must comply (99.9% is 0.999) */
            objective: number;
            /** @description The window the objective is measured over, in milliseconds */
            windowMs: number;
        };
        SloBurnRate: {
            /** @enum {string} */
            window: "5m" | "30m" | "1h" | "6h";
            /** @description Violations / triggered over the window; null without triggers */
            errorRatio: number | null;
            /** @description The error ratio over the error budget (1 spends the budget exactly over the SLO window) */
            burnRate: number | null;
            /**
             * @description current-hour: the window lies inside the current hour and is answered by that hour so far; hours: the hours it covers, the oldest prorated
             * @enum {string}
             */
            resolution: "current-hour" | "hours";
        };
        /** @description A rule’s objective against what it did, from the sidecar’s hourly rule health */
        SloStatus: {
            ruleId: string;
            objective: number;
            windowMs: number;
            /** @description The window as a rule file writes it, e.g. 30d */
            window: string;
            /** @description Traces the rule’s trigger held on over the window */
            triggered: number;
            /** @description Traces that violated the rule over the window */
            violations: number;
            /** @description 1 − violations / triggered; null without triggers */
            compliance: number | null;
            /** @description 1 − objective */
            errorBudget: number;
            /** @description The fraction of the error budget left: 1 untouched, 0 spent, negative overspent */
            budgetRemaining: number;
            burnRates: components["schemas"]["SloBurnRate"][];
            alerts: {
                page: boolean;
                ticket: boolean;
            };
            /**
             * @description The most severe burn-rate alert that holds, as the generated alert rules compute it
             * @enum {string}
             */
            state: "ok" | "ticket" | "page";
        };
        SloList: {
            slos: components["schemas"]["SloStatus"][];
        };
        /** @description A rule’s evaluations not completed on a trace (the "not evaluated" marker) */
        RuleSkips: {
            /** @description Traces on which the rule was not evaluated, all reasons together */
            count: number;
            byReason: {
                "step-budget"?: number;
                "time-budget"?: number;
                error?: number;
            };
            /**
             * Format: date-time
             * @description ISO 8601
             */
            lastSkippedAt?: string;
            /** @enum {string} */
            lastReason?: "step-budget" | "time-budget" | "error";
            lastTraceId?: string;
        };
        RuleDefinition: {
            id: string;
            name: string;
            /** @enum {string} */
            severity: "info" | "low" | "medium" | "high" | "critical";
            description?: string;
            message?: string;
            compliance?: components["schemas"]["ComplianceMapping"][];
            slo?: components["schemas"]["RuleSlo"];
            enabled: boolean;
            /** @description The rule text in the BeTrace rule language */
            condition: string;
            version?: number;
        };
        /** @description A rule as every rule route answers it */
        Rule: {
            id: string;
            name: string;
            /** @enum {string} */
            severity: "info" | "low" | "medium" | "high" | "critical";
            description?: string;
            message?: string;
            compliance?: components["schemas"]["ComplianceMapping"][];
            slo?: components["schemas"]["RuleSlo"];
            enabled: boolean;
            /** @description The rule text in the BeTrace rule language */
            condition: string;
            version: number;
            /** @description From a rule file: read-only through the API */
            provisioned: boolean;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            updatedAt: string;
            updatedBy: string;
            skipped: components["schemas"]["RuleSkips"];
        };
        RuleList: {
            rules: components["schemas"]["Rule"][];
        };
        RuleVersion: {
            version: number;
            definition: components["schemas"]["RuleDefinition"];
            /**
             * Format: date-time
             * @description ISO 8601
             */
            createdAt: string;
            createdBy: string;
            note: string;
        };
        RuleHistory: {
            versions: components["schemas"]["RuleVersion"][];
        };
        Validation: {
            valid: boolean;
            diagnostics: components["schemas"]["Diagnostic"][];
            /** @description The TraceQL that narrows the traces this rule can fire on (pull mode) */
            pushdown?: Record<string, never>;
        };
        RuleTestResult: {
            ruleId: string;
            results: {
                fired: boolean;
            }[];
            /** @description Traces on which the rule fired */
            fired: number;
        };
        Signal: {
            id: string;
            tenant: string;
            ruleId: string;
            ruleVersion: number;
            ruleName: string;
            traceId: string;
            boundSpanId?: string;
            matchedSpanIds: string[];
            message: string;
            /** @enum {string} */
            severity: "info" | "low" | "medium" | "high" | "critical";
            /** @enum {string} */
            status: "open" | "acknowledged" | "resolved" | "false_positive";
            /**
             * @description OTLP pushed to the sidecar, Tempo polled, or a replay
             * @enum {string}
             */
            source: "push" | "pull" | "replay";
            /** @description service.name of the bound (or first matched) span, when known */
            service?: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            updatedAt: string;
        };
        /** @description One status change: who moved the signal, when, and why */
        SignalChange: {
            /**
             * Format: date-time
             * @description ISO 8601
             */
            at: string;
            who: string;
            /** @enum {string} */
            from: "open" | "acknowledged" | "resolved" | "false_positive";
            /** @enum {string} */
            to: "open" | "acknowledged" | "resolved" | "false_positive";
            note: string;
        };
        SignalDetail: {
            id: string;
            tenant: string;
            ruleId: string;
            ruleVersion: number;
            ruleName: string;
            traceId: string;
            boundSpanId?: string;
            matchedSpanIds: string[];
            message: string;
            /** @enum {string} */
            severity: "info" | "low" | "medium" | "high" | "critical";
            /** @enum {string} */
            status: "open" | "acknowledged" | "resolved" | "false_positive";
            /**
             * @description OTLP pushed to the sidecar, Tempo polled, or a replay
             * @enum {string}
             */
            source: "push" | "pull" | "replay";
            /** @description service.name of the bound (or first matched) span, when known */
            service?: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            updatedAt: string;
            changes: components["schemas"]["SignalChange"][];
        };
        SignalPage: {
            signals: components["schemas"]["Signal"][];
            total: number;
            limit: number;
            offset: number;
        };
        RuleSignalCount: {
            ruleId: string;
            total: number;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            lastAt: string;
        };
        SignalSummary: {
            rules: components["schemas"]["RuleSignalCount"][];
        };
        /** @description A replay job; its times are epoch milliseconds */
        ReplayJob: {
            id: string;
            tenant: string;
            /** @enum {string} */
            source: "tempo" | "history";
            ruleIds: string[];
            /** @description epoch milliseconds */
            from: number;
            /** @description epoch milliseconds */
            to: number;
            dryRun: boolean;
            /** @enum {string} */
            status: "queued" | "running" | "done" | "failed" | "cancelled";
            windowsDone: number;
            windowsTotal: number;
            searches: number;
            tracesFetched: number;
            violationsFound: number;
            signalsCreated: number;
            /** @description Dry runs: the violations found */
            violations: {
                ruleId: string;
                traceId: string;
            }[];
            error?: string;
            /** @description epoch milliseconds */
            createdAt: number;
            /** @description epoch milliseconds */
            finishedAt?: number;
        };
        AuditEntry: {
            seq: number;
            tenant: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            at: string;
            who: string;
            action: string;
            target: string;
            before?: unknown;
            after?: unknown;
        };
        AuditPage: {
            entries: components["schemas"]["AuditEntry"][];
            total: number;
            limit: number;
            offset: number;
        };
        /** @description A lease on a pull window (pull:<tenant>:<window start ms>) or a replay job (replay:<tenant>:<job id>) */
        Lease: {
            key: string;
            holder: string;
            /** @description epoch milliseconds */
            since: number;
            /** @description epoch milliseconds */
            expiresAt: number;
            expired: boolean;
        };
        PullWindowState: {
            /** @description epoch milliseconds */
            startMs: number;
            /** @description epoch milliseconds */
            endMs: number;
            attempts: number;
            done: boolean;
        };
        ClusterLeases: {
            /** @description The replica that answered (REPLICA_ID) */
            replica: string;
            /** @description The tenant’s pull-mode watermark, shared by the replicas (absent before the first window is done) */
            watermark?: number;
            leases: components["schemas"]["Lease"][];
            /** @description Pull windows claimed past the watermark: in progress, waiting for a retry, or done ahead of an unfinished one */
            windows: components["schemas"]["PullWindowState"][];
        };
        UsageCounts: {
            spans: number;
            bytes: number;
            traces: number;
            signals: number;
            evidence: number;
        };
        Usage: {
            tenant: string;
            /** Format: date */
            from: string;
            /** Format: date */
            to: string;
            days: {
                /** Format: date */
                day: string;
                spans: number;
                bytes: number;
                traces: number;
                signals: number;
                evidence: number;
            }[];
            totals: components["schemas"]["UsageCounts"];
        };
        RecordVerification: {
            seq: number;
            /** @enum {string} */
            signature: "valid" | "invalid" | "unknown_key";
            /** @enum {string} */
            link: "valid" | "broken" | "unchecked";
            reordered: boolean;
            ok: boolean;
        };
        /** @description The whole chain of the tenant, whatever the filter */
        ChainVerification: {
            records: number;
            /** @description Records whose signature and link verify and that are in order */
            verified: number;
            /** @description Seqs whose signature does not match (changed after signing) */
            altered: number[];
            /** @description Seqs whose prev does not match the record before them */
            brokenLinks: number[];
            /** @description Seqs absent from the chain (deleted records) */
            missing: number[];
            /** @description Seqs presented after a record with a higher seq */
            reordered: number[];
            /** @description Seqs signed by a key this sidecar does not hold */
            unknownKey: number[];
            /** @description Seqs that occur more than once */
            duplicates: number[];
            /** @description The stored head (seq, hash) does not match the stored record with that seq */
            headMismatch: boolean;
            /** @description The stored chain checked against the anchors published outside the data folder */
            anchors: {
                /** @description Anchors checked (published outside the data folder) */
                anchors: number;
                /** @description The latest anchor: its head seq and when it was published */
                latest: {
                    seq: number;
                    /**
                     * Format: date-time
                     * @description ISO 8601
                     */
                    anchoredAt: string;
                } | null;
                /** @description Head seqs of anchors whose signature does not match */
                altered: number[];
                /** @description Head seqs of anchors signed by a key this sidecar does not hold */
                unknownKey: number[];
                /** @description Anchored head seqs the stored chain no longer reaches (records deleted from the end) */
                truncated: number[];
                /** @description Anchored head seqs whose stored record does not hash to the anchored hash (the chain was rewritten or replaced) */
                mismatched: number[];
                /** @description Head seqs of anchors published after an anchor with a higher head */
                outOfOrder: number[];
                /** @description Lines of the anchor log that are not anchors */
                unreadable: number;
            };
            ok: boolean;
            /**
             * @description full: walked for this answer; cached: the full walk of checkedAt, continued over the records appended since
             * @enum {string}
             */
            scope: "full" | "cached";
            /**
             * Format: date-time
             * @description ISO 8601
             */
            checkedAt: string;
            /** @description The highest seq allocated that the summary covers */
            head: number;
        };
        EvidenceRecord: {
            seq: number;
            framework: string;
            control: string;
            ruleId: string;
            evidenceType: string;
            /** @enum {string} */
            outcome: "pass" | "fail";
            checkedTraces: number;
            passedTraces: number;
            failedTraces: number;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            windowStart: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            windowEnd: string;
            sampleTraceIds: string[];
            traceId: string;
            spanId: string;
            keyId: string;
            prev: string;
            signature: string;
            /** @description The span attributes as signed (OTLP/JSON AnyValues), signature included */
            attributes: {
                [key: string]: unknown;
            };
            verification: components["schemas"]["RecordVerification"];
        };
        ControlSummary: {
            framework: string;
            control: string;
            records: number;
            pass: number;
            fail: number;
            checkedTraces: number;
            failedTraces: number;
        };
        EvidencePage: {
            records: components["schemas"]["EvidenceRecord"][];
            total: number;
            limit: number;
            offset: number;
            verification: components["schemas"]["ChainVerification"];
            summary: {
                scope: {
                    framework: string | null;
                    control: string | null;
                };
                period: {
                    /** Format: date-time */
                    from: string | null;
                    /** Format: date-time */
                    to: string | null;
                };
                controls: components["schemas"]["ControlSummary"][];
            };
        };
        EvidenceReport: {
            tenant: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            generatedAt: string;
            scope: {
                framework: string | null;
                control: string | null;
            };
            period: {
                /** Format: date-time */
                from: string | null;
                /** Format: date-time */
                to: string | null;
            };
            verification: components["schemas"]["ChainVerification"];
            controls: components["schemas"]["ControlSummary"][];
            records: components["schemas"]["EvidenceRecord"][];
            /** @description The stored chain head: its seq and the hash the next record will carry as prev */
            head: {
                seq: number;
                hash: string;
            };
            /** @description The anchors published outside the data folder, oldest first, as their spans carry them */
            anchors: {
                traceId: string;
                spanId: string;
                attributes: {
                    [key: string]: unknown;
                };
            }[];
        };
        EvidenceKeys: {
            keys: {
                id: string;
                current: boolean;
                source: string;
                /**
                 * Format: date-time
                 * @description ISO 8601
                 */
                createdAt: string;
                /**
                 * Format: date-time
                 * @description ISO 8601
                 */
                retiredAt?: string;
            }[];
        };
        RotatedKey: {
            id: string;
            previous: string | null;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            createdAt: string;
            /** @description A generated secret, shown this once */
            secret?: string;
        };
        Suggestion: {
            id: string;
            /** @enum {string} */
            kind: "implication" | "ordering" | "structure" | "correlation" | "attribute" | "count" | "absence";
            condition: string;
            title: string;
            support: number;
            confidence: number;
            confidenceLower: number;
            lift: number;
            violations: number;
            exampleTraceIds: string[];
            violatingTraceIds: string[];
            heldOut: {
                support: number;
                violations: number;
                fireRate: number;
            };
            score: number;
            /** @enum {string} */
            state: "new" | "adopted" | "dismissed";
            adoptedRuleId?: string;
        };
        DiscoveryJob: {
            id: string;
            /** @enum {string} */
            state: "running" | "done" | "failed" | "cancelled";
            /** @enum {string} */
            source: "history" | "tempo";
            /**
             * Format: date-time
             * @description ISO 8601
             */
            from: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            to: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            createdAt: string;
            createdBy: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            finishedAt?: string;
            options: {
                top: number;
                minSupport?: number;
                minConfidence?: number;
                kinds?: ("implication" | "ordering" | "structure" | "correlation" | "attribute" | "count" | "absence")[];
            };
            progress: {
                /** @enum {string} */
                phase: "mining" | "validating" | "ranking" | "done";
                traces: number;
            };
            error?: string;
            /** @description The miner’s summary (without its suggestions), once the job is done */
            result?: {
                traces: number;
                spans: number;
                spanNames: number;
                trainingTraces: number;
                heldOutTraces: number;
                truncatedTraces?: number;
                redacted: number;
            };
            suggestionCount: number;
            suggestions?: components["schemas"]["Suggestion"][];
        };
        DiscoveryJobs: {
            jobs: components["schemas"]["DiscoveryJob"][];
        };
        Adopted: {
            rule: components["schemas"]["Rule"];
            suggestion: components["schemas"]["Suggestion"];
        };
        Dismissed: {
            suggestion: components["schemas"]["Suggestion"];
        };
        /** @description OTLP/JSON */
        OtlpTraces: {
            resourceSpans: Record<string, never>[];
        };
        /** @description A rule’s counts over a range (sums of hourly buckets) */
        RuleHealthTotals: {
            /** @description Traces the rule was evaluated on to their end */
            evaluated: number;
            /** @description Of those, traces on which its trigger held (a violating trace always counts) */
            triggered: number;
            /** @description Traces that violated the rule */
            violations: number;
            /** @description Traces the evaluation budget stopped the rule on (not evaluated) */
            skipped: number;
            /** @description Microseconds over the sampled evaluations (1 trace in 16 per rule) */
            costUs: number;
            /** @description Evaluations sampled */
            costSamples: number;
        };
        /** @description A rule’s health over a range (docs/rule-health.md) */
        RuleHealthSummary: {
            ruleId: string;
            /**
             * Format: date-time
             * @description The range’s start, rounded down to the hour
             */
            from: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            to: string;
            totals: components["schemas"]["RuleHealthTotals"];
            /** @description 1 − violations ÷ triggered; null when nothing triggered */
            complianceRatio: number | null;
            /** @description Violations per hour of the range */
            fireRatePerHour: number;
            /** @description Signals marked false_positive ÷ signals acknowledged, resolved or false_positive (created in the range); null when none */
            falsePositiveRate: number | null;
            /** @description Mean sampled evaluation time per trace, microseconds; null when none sampled */
            costUsPerTrace: number | null;
            /** @description The rule’s share of the time the tenant’s rules took (mean sampled cost × traces evaluated, over all rules); null when none sampled */
            costShare: number | null;
            /**
             * Format: date-time
             * @description When its newest signal in the range was created
             */
            lastFiredAt: string | null;
            /** @description The rule’s signals created in the range, by current status */
            signals: {
                open: number;
                acknowledged: number;
                resolved: number;
                false_positive: number;
                total: number;
            };
            /** @description Why the rule looks noisy (false-positive rate ≥ 30 % of ≥ 5 closed signals, or violations on ≥ 50 % of ≥ 20 triggering traces), or null */
            noisy: {
                reason: string;
            } | null;
        };
        /** @description A rule’s health over a range with every hour of it (empty hours as zeros) */
        RuleHealth: {
            ruleId: string;
            /**
             * Format: date-time
             * @description The range’s start, rounded down to the hour
             */
            from: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            to: string;
            totals: components["schemas"]["RuleHealthTotals"];
            /** @description 1 − violations ÷ triggered; null when nothing triggered */
            complianceRatio: number | null;
            /** @description Violations per hour of the range */
            fireRatePerHour: number;
            /** @description Signals marked false_positive ÷ signals acknowledged, resolved or false_positive (created in the range); null when none */
            falsePositiveRate: number | null;
            /** @description Mean sampled evaluation time per trace, microseconds; null when none sampled */
            costUsPerTrace: number | null;
            /** @description The rule’s share of the time the tenant’s rules took (mean sampled cost × traces evaluated, over all rules); null when none sampled */
            costShare: number | null;
            /**
             * Format: date-time
             * @description When its newest signal in the range was created
             */
            lastFiredAt: string | null;
            /** @description The rule’s signals created in the range, by current status */
            signals: {
                open: number;
                acknowledged: number;
                resolved: number;
                false_positive: number;
                total: number;
            };
            /** @description Why the rule looks noisy (false-positive rate ≥ 30 % of ≥ 5 closed signals, or violations on ≥ 50 % of ≥ 20 triggering traces), or null */
            noisy: {
                reason: string;
            } | null;
            series: {
                /**
                 * Format: date-time
                 * @description The UTC hour this bucket covers (ISO 8601)
                 */
                bucketStart: string;
                evaluated: number;
                triggered: number;
                violations: number;
                skipped: number;
                costUs: number;
                costSamples: number;
                /** @description 1 − violations ÷ triggered; null when nothing triggered */
                complianceRatio: number | null;
            }[];
        };
        RuleHealthList: {
            /**
             * Format: date-time
             * @description ISO 8601
             */
            from: string;
            /**
             * Format: date-time
             * @description ISO 8601
             */
            to: string;
            rules: components["schemas"]["RuleHealthSummary"][];
        };
        Health: {
            /** @enum {string} */
            status: "ok";
        };
        Readiness: {
            ready: boolean;
            tempo?: {
                ready: boolean;
                version?: string;
            };
        };
        RuleInput: {
            id: string;
            name: string;
            /** @enum {string} */
            severity: "info" | "low" | "medium" | "high" | "critical" | "warning";
            description?: string;
            message?: string;
            compliance?: {
                framework: string;
                control: string;
            }[];
            /** @description An objective: { objective: "99.9%", window: "30d" } (or { objective: 0.999, windowMs } as the API answers it) */
            slo?: {
                /** @description A percentage such as "99.9%", or the fraction the API answers (0.999) with windowMs */
                objective?: unknown;
                window?: string;
                windowMs?: number;
            };
            enabled?: boolean;
            condition: string;
            note?: string;
        };
        /** @description The fields to change (at least one); null removes description, message, compliance or slo. The note goes with the new version. */
        RulePatch: {
            name?: string;
            /** @enum {string} */
            severity?: "info" | "low" | "medium" | "high" | "critical" | "warning";
            description?: string | null;
            message?: string | null;
            compliance?: {
                framework: string;
                control: string;
            }[] | null;
            slo?: {
                /** @description A percentage such as "99.9%", or the fraction the API answers (0.999) with windowMs */
                objective?: unknown;
                window?: string;
                windowMs?: number;
            } | null;
            enabled?: boolean;
            condition?: string;
            note?: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    getReadyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready (a Tempo outage is reported, not a reason to be unready) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description Not ready yet, or the store or ingest is unhealthy */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Prometheus text exposition format */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description METRICS_TOKEN is set and the request does not carry it */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1Rules: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tenant’s rules */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleList"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1Rules: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RuleInput"];
            };
        };
        responses: {
            /** @description The rule, version 1, in force at once */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description Invalid request, or an invalid rule (invalid_rule, with diagnostics) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description A rule with this id exists */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1RulesById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The rule */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such rule */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    putApiV1RulesById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RuleInput"];
            };
        };
        responses: {
            /** @description The rule’s new version (the same version when nothing changed) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description Invalid request, body.id not the path’s id, or an invalid rule (invalid_rule, with diagnostics) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such rule */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The rule is provisioned from a rule file (read-only here) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteApiV1RulesById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such rule */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The rule is provisioned from a rule file (read-only here) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    patchApiV1RulesById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RulePatch"];
            };
        };
        responses: {
            /** @description The rule’s new version (the same version when nothing changed) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description Invalid request, an unknown field, no field to change, or a rule the change makes invalid (invalid_rule, with diagnostics) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such rule */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The rule is provisioned from a rule file (read-only here) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1RulesByIdHistory: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The versions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleHistory"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1RulesByIdRollback: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    version: number;
                };
            };
        };
        responses: {
            /** @description The rule’s new version */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Rule"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such rule or version */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The rule is provisioned from a rule file (read-only here) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1RulesValidate: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    condition: string;
                    /** @description The rule being edited, left out of the vocabulary */
                    ruleId?: string;
                };
            };
        };
        responses: {
            /** @description The diagnostics (with line and column); valid when none is an error */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Validation"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1RulesTest: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    ruleId?: string;
                    rule?: {
                        [key: string]: unknown;
                    };
                    condition?: string;
                    traces?: {
                        [key: string]: unknown;
                    }[];
                    traceIds?: string[];
                };
            };
        };
        responses: {
            /** @description Per trace, whether the rule fired and why */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleTestResult"];
                };
            };
            /** @description Invalid request, an invalid rule (invalid_rule, with diagnostics) or an undecodable trace (invalid_trace) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such saved rule, or a trace id Tempo does not know */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Trace ids need pull mode (no_tempo) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1Signals: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
                rule?: string;
                severity?: "info" | "low" | "medium" | "high" | "critical";
                status?: "open" | "acknowledged" | "resolved" | "false_positive";
                service?: string;
                text?: string;
                traceId?: string;
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of signals and the total */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignalPage"];
                };
            };
            /** @description A bad filter (invalid_request, naming it) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1SignalsSummary: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Per rule, its count and newest signal */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignalSummary"];
                };
            };
            /** @description from or to is not a time */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1SignalsById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The signal and its status changes */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignalDetail"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such signal */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    patchApiV1SignalsById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    status: "open" | "acknowledged" | "resolved" | "false_positive";
                    note?: string;
                };
            };
        };
        responses: {
            /** @description The signal with its new status */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Signal"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such signal */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description A move its lifecycle does not allow (the message lists the allowed ones) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1Replay: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    ruleIds?: string[];
                    rule?: {
                        [key: string]: unknown;
                    };
                    from: string;
                    to: string;
                    dryRun?: boolean;
                };
            };
        };
        responses: {
            /** @description The job, started (poll GET /api/v1/replay/{id}) */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReplayJob"];
                };
            };
            /** @description Invalid request, a bad range, or an invalid draft rule (invalid_rule, with diagnostics) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such rule */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No traces to replay: neither Tempo nor a history (no_tempo) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Too many replays running (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1ReplayById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReplayJob"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such replay */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteApiV1ReplayById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job, cancelled (or already finished) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ReplayJob"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such replay */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1ClusterLeases: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The leases, the windows past the watermark, and the watermark */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ClusterLeases"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1Audit: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
                action?: string;
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of audit entries and the total */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPage"];
                };
            };
            /** @description A bad filter (invalid_request, naming it) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1Usage: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The days of the range and their totals */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Usage"];
                };
            };
            /** @description from or to is not a date, or from is after to */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1Evidence: {
        parameters: {
            query?: {
                framework?: string;
                control?: string;
                from?: string;
                to?: string;
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of records in scope, the chain’s verification and pass/fail per control */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EvidencePage"];
                };
            };
            /** @description A bad scope (invalid_request, naming it) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1EvidenceExport: {
        parameters: {
            query?: {
                format?: "csv" | "json" | "pdf";
                framework?: string;
                control?: string;
                from?: string;
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The export as an attachment (Content-Disposition names the file) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EvidenceReport"];
                    "text/csv": string;
                    "application/pdf": string;
                };
            };
            /** @description A bad scope or format (invalid_request, naming it) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1EvidenceKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The keys, oldest first */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EvidenceKeys"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1EvidenceKeysRotate: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    id?: string;
                    secret?: string;
                };
            };
        };
        responses: {
            /** @description The new current key */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RotatedKey"];
                };
            };
            /** @description A bad key id or secret */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description A key with this id exists */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1RulesHealth: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Each rule’s counts, ratios, cost and noisy hint */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleHealthList"];
                };
            };
            /** @description from or to is not a time, from is not before to, or the range is longer than 366 days */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1RulesByIdHealth: {
        parameters: {
            query?: {
                from?: string;
                to?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The rule’s counts, ratios, cost, signal lifecycle and hourly series */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RuleHealth"];
                };
            };
            /** @description from or to is not a time, from is not before to, or the range is longer than 366 days */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such rule */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1RulesByIdSlo: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The rule’s objective against what it did */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SloStatus"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such rule, or the rule has no objective (slo) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1Slos: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The tenant’s rules with an objective, by id */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SloList"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1Discover: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The jobs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DiscoveryJobs"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1Discover: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description ISO 8601 or epoch milliseconds */
                    from: string | number;
                    /** @description ISO 8601 or epoch milliseconds; at most 7 days after from */
                    to: string | number;
                    /**
                     * @default auto
                     * @enum {string}
                     */
                    source?: "auto" | "history" | "tempo";
                    /** @default 50 */
                    top?: number;
                    minSupport?: number;
                    minConfidence?: number;
                    kinds?: ("implication" | "ordering" | "structure" | "correlation" | "attribute" | "count" | "absence")[];
                };
            };
        };
        responses: {
            /** @description The job, started (poll GET /api/v1/discover/{id}) */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DiscoveryJob"];
                };
            };
            /** @description Invalid request or a bad range */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No traces to read: neither Tempo nor a history (no_source) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Too many discoveries running (Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1DiscoverById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job with its suggestions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DiscoveryJob"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such discovery job */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteApiV1DiscoverById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job as it was cancelled or deleted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DiscoveryJob"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such discovery job */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1DiscoverByIdSuggestionsBySidAdopt: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                sid: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @default false */
                    enabled?: boolean;
                    id?: string;
                    name?: string;
                    /** @enum {string} */
                    severity?: "info" | "low" | "medium" | "high" | "critical";
                    description?: string;
                    condition?: string;
                    message?: string;
                };
            };
        };
        responses: {
            /** @description The rule created (version 1) and the suggestion, adopted */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Adopted"];
                };
            };
            /** @description Invalid request, or an invalid rule (invalid_rule, with diagnostics) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such discovery job or suggestion */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The suggestion is adopted or dismissed already, or a rule with the id exists */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is larger than 16 MiB */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The body is of a media type the API does not read (send application/json) */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    postApiV1DiscoverByIdSuggestionsBySidDismiss: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                sid: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The suggestion, dismissed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dismissed"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such discovery job or suggestion */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The suggestion is adopted (delete or disable the rule instead) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1DiscoverByIdTracesByTraceId: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
                traceId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The trace as OTLP/JSON, redacted */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OtlpTraces"];
                };
            };
            /** @description A request that does not match this schema (invalid_request, naming the field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or wrong bearer token */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No such discovery job, or no such trace in its range */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The store (PostgreSQL, DATABASE_URL) is unavailable; retry after the Retry-After seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getApiV1OpenapiJson: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
        };
    };
}
