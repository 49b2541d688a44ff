#!/usr/bin/env bash
# Stop the local stack (services, FerretDB, Kafka) by their pid files. Data is kept.
# Idempotent: stopping something that does not run is a no-op.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"

bash "$here/services.sh" stop
bash "$here/ferretdb.sh" stop
bash "$here/kafka.sh" stop
