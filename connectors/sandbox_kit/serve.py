"""Serving a sandbox desk's WSGI app: in a background thread for tests and demos, or in the
foreground for `deskbook sandbox <desk>`."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from werkzeug.serving import WSGIRequestHandler, make_server

from deskbook.connectors.sandbox_kit.options import LOOPBACK


class KeepAliveHandler(WSGIRequestHandler):
    """Keep-alive connections (HTTP/1.1); the foreground server keeps its access log lines."""

    protocol_version = "HTTP/1.1"


class QuietRequestHandler(KeepAliveHandler):
    """Keep-alive and no access log on stderr (each sandbox keeps its own request log)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: D102
        pass


@contextlib.contextmanager
def serving_in_background(app: Callable, *, host: str, port: int, name: str,
                          on_close: Callable[[], None] | None = None) -> Iterator[str]:
    """Serve `app` on loopback `host:port` (0 = a free port) in a daemon thread; yield its base URL.

    On exit the server stops taking requests, the thread is joined and `on_close` runs (e.g. to
    close the sandbox's database).
    """
    if host not in LOOPBACK:
        raise ValueError(f"a sandbox in a test or demo only listens on loopback, not {host!r}")
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


def serve_in_foreground(app: Callable, *, host: str, port: int, where: str,
                        banner: Callable[[str], str], on_listen: Callable[[str], None] | None = None,
                        on_close: Callable[[], None] | None = None) -> None:
    """Serve `app` until interrupted: print `banner(url)` once listening; `on_close` at the end.
    The host must have passed `options.check_host` already."""
    from deskbook.errors import DeskbookError

    try:
        server = make_server(host, port, app, threaded=True, request_handler=KeepAliveHandler)
    except OSError as exc:
        if on_close is not None:
            on_close()
        raise DeskbookError(f"cannot listen on {host}:{port}: {exc.strerror}", where=where,
                            hint="pick another --port (0 = any free port)") from None
    url = f"http://{host}:{server.server_port}"
    if on_listen is not None:
        on_listen(url)
    print(banner(url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if on_close is not None:
            on_close()


def shared_root(spec: str | Path, desk_folder: str) -> Path:
    """The vendor-material folder (`../shared`) that `spec` is or lies in: the nearest of `spec`
    and its parents with a `desk_folder` (`zendesk`, `jsm`) inside."""
    path = Path(spec).resolve()
    for candidate in (path, *path.parents):
        if (candidate / desk_folder).is_dir():
            return candidate
    raise ValueError(f"{spec} is not in a folder of vendor material with a {desk_folder}/ folder")
