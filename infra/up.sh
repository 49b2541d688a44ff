#!/usr/bin/env bash
# Start the local stack: install/check caches, then Kafka, FerretDB and the three services.
# Idempotent: whatever already runs is left alone.
# ONCORELAY_SKIP_SERVICES=1 starts only Kafka and FerretDB (tests run the services themselves).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib.sh"

bash "$here/install.sh"
# On this one machine, ingest may read large VCFs that `oncorelay publish` spools for it (by reference).
# Nothing else is readable by reference unless configured (README, "Security and trust boundaries").
export ONCORELAY_REFERENCE_SOURCES="${ONCORELAY_REFERENCE_SOURCES-file://$HOME/.cache/oncorelay/spool/}"
bash "$here/kafka.sh" start
bash "$here/ferretdb.sh" start
if [[ ${ONCORELAY_SKIP_SERVICES:-0} != 1 ]]; then
  bash "$here/services.sh" start
fi

echo
echo "oncorelay local stack:"
bash "$here/kafka.sh" status || true
bash "$here/ferretdb.sh" status || true
if [[ ${ONCORELAY_SKIP_SERVICES:-0} != 1 ]]; then
  bash "$here/services.sh" status || true
else
  echo "  (services not started: ONCORELAY_SKIP_SERVICES=1)"
fi
echo "logs: $LOG_DIR   pids: $RUN_DIR   stop with: make down (bash infra/down.sh)"
