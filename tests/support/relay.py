"""A relay in front of a real service that notes each request it passes on (method, path, and
the number of events in an ingest batch), to see how a sensor talks to the service."""

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CountingRelay:
    def __init__(self, target_port: int) -> None:
        self.seen: list[tuple[str, str, int]] = []  # (method, path, events in the body)
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                events = 0
                if self.command == "POST" and self.path == "/api/v1/events":
                    events = len(json.loads(body).get("events", []))
                relay.seen.append((self.command, self.path, events))
                conn = http.client.HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = _relay

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def batches(self) -> list[int]:
        """The size of each ingest POST that carried events."""
        return [n for method, path, n in self.seen if path == "/api/v1/events" and n]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
