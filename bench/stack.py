"""A private oncorelay stack for the benchmarks: Kafka, FerretDB and the three services on their own
ports and directories (like infra/run-tests.sh), so neither `make up` nor `make test` is disturbed."""

import os
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from tests.support.labs import register

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("ingest", "annotate", "notify")
BENCH_LAB = "BENCHLAB"  # the lab every benchmark publishes as (bench.flow)


@dataclass
class BenchStack:
    """Where the bench stack lives and how to reach it; `env` is what the services and clients read."""

    root: Path = REPO / ".infra" / "bench"
    kafka_port: int = int(os.environ.get("ONCORELAY_BENCH_KAFKA_PORT", "49092"))
    ferretdb_port: int = int(os.environ.get("ONCORELAY_BENCH_FERRETDB_PORT", "47017"))
    service_ports: dict[str, int] = field(default_factory=lambda: {
        name: int(os.environ.get(f"ONCORELAY_BENCH_{name.upper()}_PORT", str(48101 + i)))
        for i, name in enumerate(SERVICES)
    })
    webhook_url: str = ""

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongo_uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.ferretdb_port}/?retryWrites=false"

    def env(self) -> dict[str, str]:
        """The environment for infra/*.sh, the services and the bench's own clients."""
        env = dict(os.environ)
        env.update({
            "ONCORELAY_RUN_DIR": str(self.root / "run"),
            "ONCORELAY_LOG_DIR": str(self.root / "logs"),
            "ONCORELAY_KAFKA_PORT": str(self.kafka_port),
            "ONCORELAY_KAFKA_CONTROLLER_PORT": str(self.kafka_port + 1),
            "ONCORELAY_KAFKA_DATA_DIR": str(self.root / "kafka-data"),
            "ONCORELAY_FERRETDB_PORT": str(self.ferretdb_port),
            "ONCORELAY_FERRETDB_DATA_DIR": str(self.root / "ferretdb-data"),
            "ONCORELAY_KAFKA_BOOTSTRAP": self.bootstrap,
            "ONCORELAY_MONGO_URI": self.mongo_uri,
            "ONCORELAY_MONGO_DATABASE": "oncorelay_bench",
            "ONCORELAY_DATA_DIR": str(self.root / "services"),
            "ONCORELAY_LOG_LEVEL": "warn",
            "ONCORELAY_WEBHOOK_URLS": self.webhook_url,
            "ONCORELAY_WEBHOOK_SECRET": "bench-secret",
            "ONCORELAY_NOTIFY_API_PORT": os.environ.get("ONCORELAY_BENCH_NOTIFY_API_PORT", "48104"),
            "ONCORELAY_INGEST_API_PORT": os.environ.get("ONCORELAY_BENCH_INGEST_API_PORT", "48105"),
            **{f"ONCORELAY_{name.upper()}_PORT": str(port) for name, port in self.service_ports.items()},
        })
        return env

    def _infra(self, script: str, *args: str) -> None:
        subprocess.run(["bash", str(REPO / "infra" / script), *args], cwd=REPO, env=self.env(), check=True,
                       stdout=subprocess.DEVNULL)

    def start(self, services: bool = True) -> None:
        """Fresh broker and database (data wiped), then the three services (waits for /readyz)."""
        self.stop()
        for name in ("kafka-data", "ferretdb-data", "services"):
            shutil.rmtree(self.root / name, ignore_errors=True)
        self._infra("kafka.sh", "start")
        self._infra("ferretdb.sh", "start")
        with MongoClient(self.mongo_uri) as client:  # labs are closed by default
            register(client["oncorelay_bench"], BENCH_LAB)
        if services:
            self._infra("services.sh", "start")

    def stop(self) -> None:
        """Stop whatever of the bench stack runs (by pid file; nothing else is touched)."""
        for script in ("services.sh", "ferretdb.sh", "kafka.sh"):
            subprocess.run(["bash", str(REPO / "infra" / script), "stop"], cwd=REPO, env=self.env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def pid(self, process: str) -> int:
        """The pid of a stack process (a service, kafka or ferretdb) from its pid file."""
        return int((self.root / "run" / f"{process}.pid").read_text())

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each process of the stack has used so far: services, Kafka, FerretDB."""
        tick = os.sysconf("SC_CLK_TCK")
        used = {}
        for name in (*SERVICES, "kafka", "ferretdb"):
            fields = Path(f"/proc/{self.pid(name)}/stat").read_text().rsplit(")", 1)[1].split()
            used[name] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime (proc(5))
        return used

    def reset_peak_memory(self) -> None:
        """Reset each service's peak RSS (VmHWM) so the next reading covers only what follows."""
        for name in SERVICES:
            Path(f"/proc/{self.pid(name)}/clear_refs").write_text("5")

    def peak_memory_mb(self) -> dict[str, float]:
        """Each service's peak resident memory (VmHWM) in MB since start or the last reset."""
        peaks = {}
        for name in SERVICES:
            for line in Path(f"/proc/{self.pid(name)}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[name] = int(line.split()[1]) / 1024
        return peaks

    def metrics(self, service: str) -> str:
        """The service's /metrics text."""
        url = f"http://127.0.0.1:{self.service_ports[service]}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()

    def rejections(self) -> int:
        """Lab results ingest has rejected since it started (from its /metrics)."""
        return int(sum(sample.value for family in text_string_to_metric_families(self.metrics("ingest"))
                       if family.name == "oncorelay_messages_rejected"
                       for sample in family.samples if sample.name.endswith("_total")))

    def mongodb_seconds(self) -> dict[str, dict[str, float]]:
        """Per service and command, total seconds spent in MongoDB commands (from /metrics)."""
        totals: dict[str, dict[str, float]] = {}
        for name in SERVICES:
            for family in text_string_to_metric_families(self.metrics(name)):
                if family.name != "oncorelay_mongodb_operation_seconds":
                    continue
                for sample in family.samples:
                    if sample.name.endswith("_sum") and sample.value >= 0.05:
                        totals.setdefault(name, {})[sample.labels["command"]] = round(sample.value, 2)
        return totals
