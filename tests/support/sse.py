"""A small blocking Server-Sent Events client for tests (http.client), able to disconnect and resume."""

import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class SseEvent:
    id: int | None
    event: str
    data: dict


class SseClient:
    def __init__(self, url: str, token: str, last_event_id: int | None = None, timeout_s: float = 10.0) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.comments = 0
        self.last_id: int | None = last_event_id

    def next_event(self, timeout_s: float) -> SseEvent:
        """The next event (comments such as heartbeats are counted and skipped)."""
        deadline = time.monotonic() + timeout_s
        fields: dict[str, str] = {}
        while time.monotonic() < deadline:
            line = self.response.fp.readline().decode("utf-8")
            if line == "":
                raise ConnectionError("stream closed")
            line = line.rstrip("\n")
            if line.startswith(":"):
                self.comments += 1
            elif line == "":
                if "data" in fields:
                    event = SseEvent(int(fields["id"]) if "id" in fields else None, fields.get("event", "message"),
                                     json.loads(fields["data"]))
                    self.last_id = event.id if event.id is not None else self.last_id
                    return event
                fields = {}
            else:
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
        raise TimeoutError(f"no event within {timeout_s} s")

    def wait_for_comment(self, timeout_s: float) -> None:
        """Read until a comment line (a heartbeat) arrives."""
        start = self.comments
        deadline = time.monotonic() + timeout_s
        while self.comments == start and time.monotonic() < deadline:
            line = self.response.fp.readline().decode("utf-8")
            if line.startswith(":"):
                self.comments += 1
        if self.comments == start:
            raise TimeoutError("no heartbeat")

    def close(self) -> None:
        self.connection.close()
