"""Our FerretDB wrapper logs through a handler that defers formatting `With` attributes until a record is
written (infra/ferretdb/logging.go): the records it writes must still carry them."""

import os
from pathlib import Path


def test_written_ferretdb_records_carry_their_with_attributes():
    log = Path(os.environ["ONCORELAY_LOG_DIR"]) / "ferretdb.log"  # set by infra/run-tests.sh (make test)
    lines = log.read_text().splitlines()
    # FerretDB names its listener's logger with Logger.With("name", "listener") and adds each connection the same way.
    assert any("Listening on TCP" in line and "name=listener" in line for line in lines), lines[:5]
    assert any("Connection started" in line and "name=listener" in line and "conn=" in line for line in lines), lines[:5]
