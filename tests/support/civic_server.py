"""A local HTTP server laid out like CIViC's downloads (<release>/<release>-<Kind>.tsv), serving files of a
directory in place (the shared test data is never copied)."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@contextmanager
def civic_downloads(directory: Path, pages: dict[str, tuple[int, dict, bytes]] | None = None):
    """Yield the base URL; GET /<release>/<name> serves directory/<name>. `pages` answers given paths with
    (status, headers, body) instead, e.g. an HTML error page or a redirect."""
    pages = pages or {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            if self.path in pages:
                status, headers, body = pages[self.path]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            path = directory / self.path.rsplit("/", 1)[-1]
            if self.path.count("/") != 2 or not path.is_file():
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()
            with path.open("rb") as handle:
                while block := handle.read(1 << 16):
                    self.wfile.write(block)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
