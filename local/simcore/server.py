"""Run a WSGI app on a loopback port in a background thread (tests, the local stack) or in the foreground (CLI)."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from contextlib import suppress
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server


class ServerThread:
    """A threaded HTTP/1.1 server for `app`; port 0 picks a free port. Use as a context manager or start()/stop()."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"http-{port}",
            daemon=True,
        )
        self.host = host
        self.port = self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DropConnection(Exception):
    """Raised inside a simulator to close the connection without an answer (a reset, or a lost answer)."""


def drop_connection(environ: dict[str, Any]) -> None:
    """Shut the client's socket; werkzeug then treats the unwritten answer as a dropped connection."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM (the simulators' command lines)."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
