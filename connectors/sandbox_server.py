"""Serving a sandbox desk's WSGI app: in a background thread for tests and demos."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator

from werkzeug.serving import WSGIRequestHandler, make_server

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class QuietRequestHandler(WSGIRequestHandler):
    """Keep-alive connections (HTTP/1.1) and no access log on stderr (each sandbox keeps its own
    request log)."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
        pass


@contextlib.contextmanager
def serving_in_background(app: Callable, *, host: str, port: int, name: str,
                          on_close: Callable[[], None] | None = None) -> Iterator[str]:
    """Serve `app` on `host:port` (0 = a free port) in a daemon thread; yield its base URL.

    On exit the server stops taking requests, the thread is joined and `on_close` runs (e.g. to
    close the sandbox's database).
    """
    if host not in LOOPBACK:
        raise ValueError(f"a sandbox only listens on loopback, not {host!r}")
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        if on_close is not None:
            on_close()
