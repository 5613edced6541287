"""``learnable serve``: the calculator in the browser, on this machine.

A page (``static/``) where one types a spec and watches the table, the totals, the chart
and the graph follow, computed by the same engine as the command line through a small
JSON API (:mod:`.api`, documented in docs/serve.md). Only the ``serve`` command imports
this package; the standard library (asyncio, multiprocessing) is all it needs.
"""

from __future__ import annotations

import errno
import sys

from ..errors import LearnableError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> int:
    """Serve until Ctrl-C; returns the exit status. Port 0 takes any free port."""
    from ._hosts import is_loopback
    from .server import make_server, serve_forever, url

    if not 0 <= port <= 65535:
        raise LearnableError(f"--port must be from 0 to 65535, got {port}")
    try:
        server = make_server(host, port)
    except OSError as err:
        raise LearnableError(_bind_problem(host, port, err)) from None
    print(f"learnable: the calculator is at {url(server)} (Ctrl-C to stop)", flush=True)
    if not is_loopback(server.server_address[0]):
        print(f"learnable: note: listening on {host}, not this machine only: whoever can reach it can use it "
              "(it has no login)", file=sys.stderr, flush=True)
    serve_forever(server)
    return 0


def _bind_problem(host: str, port: int, err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use; stop what uses it or choose another port with --port N"
    if err.errno == errno.EACCES:
        return f"no permission to listen on port {port}; choose a port above 1023 with --port N"
    return f"cannot listen on {host}:{port}: {err.strerror or err}"
