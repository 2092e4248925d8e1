#!/bin/sh
# Gives the sidecar a Grafana service-account token (role Editor: annotations:create) so it can
# write one annotation per signal. Runs once per `docker compose up`, before the sidecar starts;
# writes the token to $TOKEN_FILE. Service accounts cannot be provisioned from files, hence the API.
# A failure is reported and leaves no token: the sidecar then starts without the annotation writer
# rather than not at all.
set -u

give_up() {
  echo "grafana-init: $1; the sidecar will not write annotations" >&2
  rm -f "$TOKEN_FILE"
  exit 0
}

GRAFANA="${GRAFANA_URL:-http://grafana:3000}"
AUTH="${GRAFANA_ADMIN_USER:-admin}:${GRAFANA_ADMIN_PASSWORD:-admin}"
NAME=betrace-sidecar
TOKEN_FILE="${TOKEN_FILE:-/shared/grafana-token}"

i=0
until curl -fsS "$GRAFANA/api/health" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt 90 ]; then
    give_up "Grafana did not answer at $GRAFANA/api/health within 3 minutes"
  fi
  sleep 2
done

# The service account survives restarts in Grafana's volume; create it only once.
id=$(curl -fsS -u "$AUTH" "$GRAFANA/api/serviceaccounts/search?query=$NAME" | sed -n 's/.*"serviceAccounts":\[{"id":\([0-9]*\).*/\1/p')
if [ -z "$id" ]; then
  id=$(curl -fsS -u "$AUTH" -H 'Content-Type: application/json' -X POST "$GRAFANA/api/serviceaccounts" \
    -d "{\"name\":\"$NAME\",\"role\":\"Editor\"}" | sed -n 's/^{"id":\([0-9]*\).*/\1/p')
fi
if [ -z "$id" ]; then
  give_up "could not create or find the service account $NAME (check the admin credentials)"
fi

key=$(curl -fsS -u "$AUTH" -H 'Content-Type: application/json' -X POST "$GRAFANA/api/serviceaccounts/$id/tokens" \
  -d "{\"name\":\"$NAME-$(date +%s)\"}" | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
if [ -z "$key" ]; then
  give_up "Grafana returned no token for service account $id"
fi
# Readable by the sidecar's unprivileged user: only this container and the sidecar mount the volume.
umask 022
printf '%s' "$key" > "$TOKEN_FILE"
echo "grafana-init: token for service account $NAME (id $id) written to $TOKEN_FILE"
