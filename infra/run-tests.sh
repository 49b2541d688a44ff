#!/usr/bin/env bash
# make test: install what is missing, start a private Kafka + FerretDB for the tests, run pytest.
# The test broker and database have their own ports and data under .infra/test/ (wiped each run),
# so a stack started with `make up` is neither used nor disturbed. The integration tests start
# the three services themselves. Everything started here is stopped on exit.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib.sh"

bash "$here/install.sh"
(cd "$REPO" && "$VENV/bin/lint-imports" --no-cache && "$VENV/bin/mypy")  # layers and types (pyproject.toml), before any service starts

test_dir="${ONCORELAY_TEST_DIR:-$INFRA_DIR/test}"  # another dir (and ports) lets two suites run side by side
export ONCORELAY_RUN_DIR="$test_dir/run" ONCORELAY_LOG_DIR="$test_dir/logs"
export ONCORELAY_KAFKA_PORT="${ONCORELAY_TEST_KAFKA_PORT:-39092}"
export ONCORELAY_KAFKA_CONTROLLER_PORT="${ONCORELAY_TEST_KAFKA_CONTROLLER_PORT:-39093}"
export ONCORELAY_FERRETDB_PORT="${ONCORELAY_TEST_FERRETDB_PORT:-37017}"
export ONCORELAY_KAFKA_DATA_DIR="$test_dir/kafka-data" ONCORELAY_FERRETDB_DATA_DIR="$test_dir/ferretdb-data"
export ONCORELAY_KAFKA_BOOTSTRAP="127.0.0.1:$ONCORELAY_KAFKA_PORT"
export ONCORELAY_MONGO_URI="mongodb://127.0.0.1:$ONCORELAY_FERRETDB_PORT/?retryWrites=false"

cleanup() {
  bash "$here/ferretdb.sh" stop || true
  bash "$here/kafka.sh" stop || true
}
trap cleanup EXIT
cleanup >/dev/null  # a previous run that was killed may have left them running
rm -rf "$ONCORELAY_KAFKA_DATA_DIR" "$ONCORELAY_FERRETDB_DATA_DIR"
bash "$here/kafka.sh" start
bash "$here/ferretdb.sh" start

cd "$REPO"
set +e
"$PY" -m pytest -q "$@"
status=$?
set -e
if ((status != 0)); then
  echo "pytest failed ($status); service logs of the integration tests are under pytest's tmp dir (see the failure output)" >&2
fi
exit "$status"
