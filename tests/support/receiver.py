"""A real HTTP webhook receiver for tests: verifies signatures, de-duplicates by Idempotency-Key,
records the subscription event counter, and can be told to fail or to answer too late for a while
(to exercise retries)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.notify.domain.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

SUBSCRIPTION_HEADER = "X-Oncorelay-Subscription"
EVENT_NUMBER_HEADER = "X-Oncorelay-Event-Number"


class WebhookReceiver:
    """Runs on 127.0.0.1 (or another loopback `host`) in a background thread; `url` is where to point
    ONCORELAY_WEBHOOK_URLS. With `redirect_to` it answers every POST with 302 to that URL."""

    def __init__(self, secret: bytes, path: str = "/alerts", host: str = "127.0.0.1",
                 redirect_to: str | None = None) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.requests: list[dict] = []  # every POST, including duplicates and failures
        self.alerts: dict[str, dict] = {}  # first accepted body per Idempotency-Key
        self.event_numbers: dict[str, int] = {}  # Idempotency-Key -> X-Oncorelay-Event-Number of the first accepted
        self.bad_signatures = 0
        self.fail_next = 0  # answer 503 to this many signed requests
        self.slow_next = 0  # accept (and keep) this many, but answer only after slow_s (the sender times out)
        self.slow_s = 3.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = verify(receiver.secret, self.headers.get(TIMESTAMP_HEADER), self.headers.get(SIGNATURE_HEADER),
                            body, time.time())
                key = self.headers.get(IDEMPOTENCY_HEADER)
                delay = 0.0
                with receiver.lock:
                    receiver.requests.append({"key": key, "signed": ok, "body": body,
                                              "authorization": self.headers.get("Authorization"),
                                              "content_type": self.headers.get("Content-Type"),
                                              "subscription": self.headers.get(SUBSCRIPTION_HEADER),
                                              "event_number": self.headers.get(EVENT_NUMBER_HEADER)})
                    if redirect_to:
                        status = 302
                    elif not ok:
                        receiver.bad_signatures += 1
                        status = 401
                    elif receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        status = 503
                    else:
                        if key not in receiver.alerts:
                            receiver.alerts[key] = json.loads(body)
                            number = self.headers.get(EVENT_NUMBER_HEADER)
                            if number:
                                receiver.event_numbers[key] = int(number)
                        if receiver.slow_next > 0:
                            receiver.slow_next -= 1
                            delay = receiver.slow_s
                        status = 204
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    if redirect_to:
                        self.send_header("Location", redirect_to)
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def alerts_for_case(self, case_id: str) -> list[dict]:
        with self.lock:
            return [a for a in self.alerts.values() if a.get("case_id") == case_id]

    def deliveries_of(self, alert_id: str) -> int:
        """How many correctly signed POSTs (accepted or failed on purpose) carried this alert_id."""
        with self.lock:
            return sum(1 for r in self.requests if r["key"] == alert_id and r["signed"])

    def accepted(self) -> dict[str, dict]:
        """Idempotency-Key -> first accepted body (JSON alerts and FHIR bundles alike)."""
        with self.lock:
            return dict(self.alerts)
