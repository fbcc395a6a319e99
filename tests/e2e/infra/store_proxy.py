"""A TCP proxy on loopback that injects latency between a job and its store (FerretDB).

Every chunk of bytes, either way, is held for `delay` seconds plus a random part of `jitter`
seconds before it is passed on; the order of one connection's bytes is kept (a chunk never
overtakes the one before it), but different connections are delayed independently. Both can be
changed while jobs use the proxy: `delay = 60` stalls a store that answered at once a moment
before. Threads only (a reader and a writer per direction per connection); everything closes with
`close()` (or the `with` block).
"""

from __future__ import annotations

import queue
import random
import socket
import threading
import time
from types import TracebackType
from typing import Optional

from tests.e2e.infra import procs


class DelayProxy:
    """`uri` is a MongoDB connection string through the proxy to `target_port`."""

    def __init__(
        self, target_port: int, delay: float = 0.0, jitter: float = 0.0, seed: int = 12
    ) -> None:
        self.target = (procs.LOOPBACK, target_port)
        self.delay = delay
        self.jitter = jitter
        self.connections = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self._listener = socket.create_server((procs.LOOPBACK, 0))
        self.port = self._listener.getsockname()[1]
        # directConnection: the driver talks to this address, not to the one the server names.
        self.uri = f"mongodb://{procs.LOOPBACK}:{self.port}/?directConnection=true"
        threading.Thread(target=self._accept, name="delay-proxy-accept", daemon=True).start()

    def _hold(self) -> float:
        with self._lock:
            return self.delay + (self._random.uniform(0, self.jitter) if self.jitter else 0.0)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self.connections += 1
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                chunks: queue.Queue = queue.Queue()
                threading.Thread(target=self._read, args=(source, chunks), daemon=True).start()
                threading.Thread(target=self._write, args=(sink, chunks), daemon=True).start()

    def _read(self, source: socket.socket, chunks: queue.Queue) -> None:
        release = 0.0
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                chunks.put(None)
                return
            # Never before the chunk ahead of it: one connection's bytes stay in order.
            release = max(release, time.monotonic() + self._hold())
            chunks.put((release, data))

    def _write(self, sink: socket.socket, chunks: queue.Queue) -> None:
        while True:
            item = chunks.get()
            if item is None or self._closed.is_set():
                break
            release, data = item
            while not self._closed.is_set():
                wait = release - time.monotonic()
                if wait <= 0:
                    break
                # Wakes up for close().
                time.sleep(min(wait, 0.1))
            try:
                sink.sendall(data)
            except OSError:
                break
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                try:
                    s.close()
                except OSError:
                    pass

    def __enter__(self) -> DelayProxy:
        return self

    def __exit__(
        self,
        kind: Optional[type],
        value: Optional[BaseException],
        trace: Optional[TracebackType],
    ) -> None:
        self.close()
