"""A TCP proxy for fault injection: forwards to a server, or delays, or drops, on command.

Stands between Mem0 and its PostgreSQL in tests, so "Mem0 slow" and "Mem0 unreachable" are real
network conditions for the platform's code, not mocks; and between two platforms (the hosted chain,
``dev/hosted_chain.py``) as the hosted Mem0 platform's network, in the tests and bench H1.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path


class TcpProxy:
    """Listens on 127.0.0.1:<port>; ``mode`` is "pass", "delay", "latency" or "drop".

    "latency" holds each chunk a client sends (one HTTP request, on a kept-alive connection) for
    ``latency_s`` before forwarding it, answers untouched: a remote service's per-request cost, as
    the hosted Mem0 platform's ≈150 ms search (the Mem0 paper: p50 0.148 s). ``requests`` counts
    the requests clients sent (a chunk after a pause of over 5 ms starts one), in every mode.
    """

    def __init__(
        self, target: tuple[str, int] | Path, *, delay_s: float = 5.0, latency_s: float = 0.15
    ) -> None:
        self.target = target
        self.delay_s = delay_s
        self.latency_s = latency_s
        self.mode = "pass"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._conns: list[socket.socket] = []
        self.requests = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def set_mode(self, mode: str) -> None:
        """Switch mode; "drop" also cuts every open connection."""
        self.mode = mode
        if mode == "drop":
            with self._lock:
                for conn in self._conns:
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RDWR)
                    conn.close()
                self._conns.clear()

    def close(self) -> None:
        self.set_mode("drop")
        self._listener.close()

    def _connect_target(self) -> socket.socket:
        if isinstance(self.target, Path):
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(str(self.target))
            return upstream
        return socket.create_connection(self.target)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "drop":
                client.close()
                continue
            try:
                upstream = self._connect_target()
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for src, dst, upward in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pipe, args=(src, dst, upward), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, upward: bool = False) -> None:
        last = 0.0
        try:
            while data := src.recv(65536):
                if self.mode == "delay":
                    time.sleep(self.delay_s)
                # The rest of a request sent in several writes (headers, then body) is not held again.
                if upward and time.monotonic() - last > 0.005:
                    with self._lock:
                        self.requests += 1
                    if self.mode == "latency":
                        time.sleep(self.latency_s)
                last = time.monotonic()
                if self.mode == "drop":
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.close()
