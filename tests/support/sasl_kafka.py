"""A second, throw-away KRaft broker with SASL/PLAIN and ACLs enforced (StandardAuthorizer), from the same
jars as the test broker (infra/install.sh), for tests of the Kafka ACLs a deployment needs."""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.services import REPO, free_port

LIBS = REPO / ".infra" / "kafka" / "libs"
ADMIN = ("admin", "admin-secret")


def _jaas(users: dict[str, str]) -> str:
    accounts = " ".join(f'user_{name}="{password}"' for name, password in {ADMIN[0]: ADMIN[1], **users}.items())
    return (f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{ADMIN[0]}" '
            f'password="{ADMIN[1]}" {accounts};')


class SaslBroker:
    """One broker+controller: SASL_PLAINTEXT with the given PLAIN users, `admin` the only super user."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.port, self.controller_port = free_port(), free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.work = Path(tempfile.mkdtemp(prefix="oncorelay-sasl-"))
        self.process: subprocess.Popen | None = None

    def _java(self, *args: str, **options) -> subprocess.CompletedProcess:
        return subprocess.run(["java", "-Xmx384m", "-cp", f"{LIBS}/*", *args], capture_output=True, text=True,
                              check=True, **options)

    def start(self, timeout_s: float = 90) -> "SaslBroker":
        config = self.work / "server.properties"
        config.write_text("\n".join([
            "process.roles=broker,controller", "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            f"listeners=SASL_PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{self.port}",
            "inter.broker.listener.name=SASL_PLAINTEXT", "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms=PLAIN", "sasl.mechanism.inter.broker.protocol=PLAIN",
            f"listener.name.sasl_plaintext.plain.sasl.jaas.config={_jaas(self.users)}",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # the controller listener is loopback only; its (unauthenticated) principal is the node itself
            "super.users=User:admin;User:ANONYMOUS",
            "auto.create.topics.enable=false", "num.partitions=1",
            "offsets.topic.replication.factor=1", "offsets.topic.num.partitions=1",
            "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1", "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0", "num.network.threads=1", "num.io.threads=1",
            f"log.dirs={self.work / 'data'}", "",
        ]))
        cluster = self._java("kafka.tools.StorageTool", "random-uuid").stdout.strip()
        self._java("kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(config))
        log = (self.work / "kafka.log").open("wb")
        self.process = subprocess.Popen(
            ["java", "-Xmx512m", "-cp", f"{LIBS}/*", f"-Dlog4j2.configurationFile={REPO}/infra/kafka/log4j2.properties",
             "kafka.Kafka", str(config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the SASL broker exited:\n{self.log_tail()}")
            try:
                self.admin("--list")
                return self
            except subprocess.CalledProcessError:
                time.sleep(1)
        self.stop()
        raise TimeoutError(f"the SASL broker did not start in {timeout_s} s:\n{self.log_tail()}")

    def admin_properties(self) -> Path:
        """The admin client's properties file (kafka-acls.sh --command-config)."""
        path = self.work / "admin.properties"
        path.write_text("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
                        f"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
                        f'username="{ADMIN[0]}" password="{ADMIN[1]}";\n')
        return path

    def admin(self, *arguments: str) -> str:
        """kafka-acls.sh (org.apache.kafka.tools.AclCommand) as the super user."""
        return self.run_acl_command(["--bootstrap-server", self.bootstrap, "--command-config",
                                     str(self.admin_properties()), *arguments])

    def run_acl_command(self, arguments: list[str]) -> str:
        """kafka-acls.sh with these arguments (org.apache.kafka.tools.AclCommand; its output)."""
        return self._java("org.apache.kafka.tools.AclCommand", *arguments, timeout=60).stdout

    def client_options(self, user: str) -> dict:
        """aiokafka options to connect as `user`."""
        password = ADMIN[1] if user == ADMIN[0] else self.users[user]
        return {"bootstrap_servers": self.bootstrap, "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN", "sasl_plain_username": user, "sasl_plain_password": password}

    def log_tail(self, lines: int = 40) -> str:
        path = self.work / "kafka.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.work, ignore_errors=True)
