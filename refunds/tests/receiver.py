"""A webhook receiver on 127.0.0.1 that records and verifies what it gets."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from refunds import webhooks

# Ports this test suite may listen on.
PORTS = range(8301, 8400)


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def event_id(self) -> str:
        return self.headers[webhooks.EVENT_ID_HEADER]

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST and responds with the next queued status (200 after)."""

    secret: str = ""
    statuses: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    # When set, the request with this 1-based number waits for ``release``.
    hold_request: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None, "the receiver is not started"
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)
        return f"http://{host}:{port}/hooks/refunds"

    def event_ids(self) -> list[str]:
        with self.lock:
            return [delivery.event_id for delivery in self.deliveries]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    webhooks.verify(
                        secret=receiver.secret,
                        body=body,
                        timestamp=self.headers.get(webhooks.TIMESTAMP_HEADER),
                        signature=self.headers.get(webhooks.SIGNATURE_HEADER),
                        now=int(time.time()),
                        tolerance=300,
                    )
                    valid = True
                except webhooks.InvalidSignature:
                    valid = False
                with receiver.lock:
                    receiver.deliveries.append(
                        Delivery(dict(self.headers), body, valid)
                    )
                    number = len(receiver.deliveries)
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if number == receiver.hold_request:
                    receiver.held.set()
                    receiver.release.wait(timeout=120)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.end_headers()
                    self.wfile.write(b"ok" if status < 300 else b"refused")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender was killed while this request was held

            def log_message(self, format, *args):
                pass

        for port in PORTS:
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
                break
            except OSError:
                continue
        else:
            raise RuntimeError("No free port between 8301 and 8399 on 127.0.0.1.")
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
