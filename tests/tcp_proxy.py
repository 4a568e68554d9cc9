"""A tiny TCP proxy that a test can stop and start, to cut an app off from its database."""

from __future__ import annotations

import socket
import threading


def free_port() -> int:
    """Return a port no one on this machine listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TcpProxy:
    """Forward 127.0.0.1:listen_port to upstream; stop() drops the listener and every connection."""

    def __init__(self, listen_port: int, upstream: tuple[str, int]) -> None:
        self.listen_port = listen_port
        self.upstream = upstream
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind(("127.0.0.1", self.listen_port))
        except OSError:
            listener.close()  # not left for the garbage collector to warn about in a later test
            raise
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        if listener is not None:
            # Shut down first: a close alone leaves the thread blocked in accept() holding the
            # port until a client happens to connect, and start() could not bind it again.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected: nothing to wake
            listener.close()
        for connection in connections:
            _close(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the proxy is stopped
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    _close(client)
                    _close(server)
                    return
                self._connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()
