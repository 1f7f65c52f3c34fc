"""A local stand-in for arXiv's API and file servers, answering from recorded answers."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from repro.literature.fetch import Fetcher

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def recorded_answers() -> dict[str, tuple[int, str]]:
    """id_list value -> (status, Atom body), from ../shared/fixtures/arxiv/*.json."""
    folder = FIXTURES / "arxiv"
    if not folder.is_dir():
        pytest.skip("../shared/fixtures is absent")
    out = {}
    for f in sorted(folder.glob("*.json")):
        rec = json.loads(f.read_text())
        id_list = parse_qs(urlsplit(rec["url"]).query)["id_list"][0]
        out[id_list] = (rec["status_code"], rec["body"])
    return out


class ArxivServer:
    """A loopback stand-in for export.arxiv.org and arxiv.org.

    `answers` maps id_list -> (status, body); `files` maps "/pdf/<id>" or "/src/<id>" ->
    bytes; `fail` is a list of statuses served (and consumed) before the real answer;
    `sleep_s` delays every answer. `requests` records each path asked for.
    """

    def __init__(self, answers: dict | None = None) -> None:
        self.answers = dict(answers or {})
        self.files: dict[str, bytes] = {}
        self.fail: list[int] = []
        self.sleep_s = 0.0
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                server.requests.append(self.path)
                if server.sleep_s:
                    time.sleep(server.sleep_s)
                if server.fail:
                    self._send(server.fail.pop(0), b"<html>busy</html>", "text/html")
                    return
                parts = urlsplit(self.path)
                if parts.path == "/api/query":
                    id_list = parse_qs(parts.query).get("id_list", [""])[0]
                    status, body = server.answers.get(id_list, (404, "not recorded"))
                    self._send(status, body.encode(), "application/atom+xml")
                elif parts.path in server.files:
                    self._send(200, server.files[parts.path], "application/octet-stream")
                else:
                    self._send(404, b"not found", "text/plain")

            def _send(self, status, body, ctype):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fetcher(self, cache: Path, **kw) -> Fetcher:
        opts = dict(api_url=self.url + "/api/query", base_url=self.url, cache_dir=cache,
                    timeout_s=2.0, retries=2, backoff_s=0.01, delay_s=0.0)
        opts.update(kw)
        return Fetcher(**opts)
