"""The exporter's HTTP server: bounded, so idle or slow clients cannot take it down (issue 15).

prometheus_client's own server keeps a thread per connection for as long as the client likes (1,000 idle
connections: 1,000 threads, and a backlog of 5). Here one thread waits on every open connection at once
(selectors); only a connection whose request has arrived gets one of a few worker threads. A connection idle
for IDLE seconds is closed, at most MAX_OPEN are kept (the longest idle goes first), a request must arrive
whole within IDLE seconds and fit in MAX_REQUEST bytes, and each answer closes its connection.
"""

from __future__ import annotations

import contextlib
import gzip
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

IDLE = 10.0
MAX_OPEN = 512
WORKERS = 8
MAX_REQUEST = 16 * 1024
BACKLOG = 512


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, IPv4 or IPv6 as the host is written ("::" listens on both)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class MetricsServer:
    """Serves the registry's metrics at /metrics (and /), text or OpenMetrics as asked, until `close()`."""

    def __init__(self, sock: socket.socket, registry: Any, *, idle: float = IDLE, max_open: int = MAX_OPEN,
                 workers: int = WORKERS) -> None:
        self.sock, self.registry, self.idle, self.max_open = sock, registry, idle, max_open
        self.port = int(sock.getsockname()[1])
        self._selector = selectors.DefaultSelector()
        self._opened: dict[socket.socket, float] = {}  # waiting connection -> when it was accepted
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qms-metrics")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="qms-metrics-accept", daemon=True)

    def start(self) -> None:
        self._selector.register(self.sock, selectors.EVENT_READ)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for conn in list(self._opened):
            self._drop(conn)
        self._selector.close()
        self.sock.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                if key.fileobj is self.sock:
                    self._accept()
                else:
                    conn: Any = key.fileobj
                    self._selector.unregister(conn)
                    self._opened.pop(conn, None)
                    self._pool.submit(self._answer, conn)
            cutoff = time.monotonic() - self.idle
            for conn, since in list(self._opened.items()):
                if since < cutoff:
                    self._drop(conn)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of file descriptors, or the client gave up: try again on the next event
                return
            if len(self._opened) >= self.max_open:
                self._drop(min(self._opened, key=self._opened.__getitem__))  # the longest idle makes room
            conn.setblocking(False)
            self._opened[conn] = time.monotonic()
            self._selector.register(conn, selectors.EVENT_READ)

    def _drop(self, conn: socket.socket) -> None:
        self._opened.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn)
        conn.close()

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.setblocking(True)
            head = _read_head(conn, time.monotonic() + self.idle)
            if head is None:
                return
            status, headers, body = self._respond(head)
            lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(body)}",
                     "Connection: close", "", ""]
            conn.settimeout(self.idle)
            conn.sendall("\r\n".join(lines).encode("latin-1") + body)
        except OSError:
            pass  # the client went away, or was too slow
        finally:
            conn.close()

    def _respond(self, head: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        from prometheus_client.exposition import choose_encoder, gzip_accepted

        request, *fields = head.decode("latin-1").split("\r\n")
        parts = request.split()
        if len(parts) != 3 or parts[0] not in ("GET", "HEAD"):
            return "400 Bad Request", [("Content-Type", "text/plain")], b"GET /metrics\n"
        if parts[1].split("?")[0] not in ("/", "/metrics"):
            return "404 Not Found", [("Content-Type", "text/plain")], b"see /metrics\n"
        header = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields if f)}
        encoder, content_type = choose_encoder(header.get("accept", ""))
        body = encoder(self.registry)
        out = [("Content-Type", content_type)]
        if gzip_accepted(header.get("accept-encoding", "")):
            body = gzip.compress(body)
            out.append(("Content-Encoding", "gzip"))
        return "200 OK", out, b"" if parts[0] == "HEAD" else body


def _read_head(conn: socket.socket, deadline: float) -> bytes | None:
    """The request line and headers, or None when the client sends too much, too slowly, or nothing."""
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or len(data) > MAX_REQUEST:
            return None
        conn.settimeout(left)
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def url(host: str, port: int) -> str:
    """The address people open: IPv6 hosts in brackets ("http://[::]:9464/metrics")."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/metrics"


def open_to_network(host: str) -> bool:
    """True when the address listens beyond this machine (anything but loopback)."""
    import ipaddress

    if host in ("localhost", "ip6-localhost"):
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True  # a name: it may resolve to any address
