"""A private Kafka + FerretDB for fault tests: own ports and data dirs, started and stopped (and broken on
purpose) with the same infra/kafka.sh and infra/ferretdb.sh scripts `make up` uses."""

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.services import REPO, free_port


class PrivateInfra:
    """Kafka and FerretDB on free ports with data under `work`; `env` points clients (and services) at them."""

    def __init__(self, work: Path) -> None:
        self.work = work
        kafka, controller, ferretdb = free_port(), free_port(), free_port()
        self.env = {
            "ONCORELAY_RUN_DIR": str(work / "run"),
            "ONCORELAY_LOG_DIR": str(work / "infra-logs"),
            "ONCORELAY_KAFKA_DATA_DIR": str(work / "kafka-data"),
            "ONCORELAY_FERRETDB_DATA_DIR": str(work / "ferretdb-data"),
            "ONCORELAY_KAFKA_PORT": str(kafka),
            "ONCORELAY_KAFKA_CONTROLLER_PORT": str(controller),
            "ONCORELAY_FERRETDB_PORT": str(ferretdb),
            "ONCORELAY_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka}",
            "ONCORELAY_MONGO_URI": f"mongodb://127.0.0.1:{ferretdb}/?retryWrites=false",
        }

    def _script(self, name: str, action: str) -> None:
        env = {**os.environ, **self.env}
        result = subprocess.run(["bash", str(REPO / "infra" / f"{name}.sh"), action], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=180)
        if result.returncode != 0 and action == "start":
            raise RuntimeError(f"{name} {action} failed:\n{result.stdout}\n{result.stderr}")

    def start(self, name: str) -> None:
        """Start "kafka" or "ferretdb" (returns once it answers)."""
        self._script(name, "start")

    def stop(self, name: str) -> None:
        self._script(name, "stop")

    def start_all(self) -> "PrivateInfra":
        try:
            self.start("kafka")
            self.start("ferretdb")
        except BaseException:
            self.stop_all()
            raise
        return self

    def stop_all(self, remove_data: bool = True) -> None:
        self.stop("ferretdb")
        self.stop("kafka")
        if remove_data:
            for key in ("ONCORELAY_KAFKA_DATA_DIR", "ONCORELAY_FERRETDB_DATA_DIR"):
                shutil.rmtree(self.env[key], ignore_errors=True)
