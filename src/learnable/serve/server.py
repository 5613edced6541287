"""The HTTP side of ``learnable serve``: an asyncio server (:mod:`._http`), the packaged
page, and the JSON API of :mod:`.api` counted in a pool of worker processes (:mod:`._workers`).

Bound to 127.0.0.1 by default. Two guards keep other web sites the user visits from
using it: only requests whose Host names this server are answered (DNS rebinding: see
:class:`HostCheck`), and POST needs ``Content-Type: application/json``, which a cross-site
form cannot send and a cross-site fetch can only send after a preflight this server
never approves (it sends no CORS headers).

Every resource a client can hold is bounded (:class:`Limits`, docs/serve.md): open
connections, the time to send a request, its size, the workers, the requests waiting for
one, and each count's time and memory. Past a bound the answer is one JSON line, never a
traceback; a client that goes away is not an event worth a line on the console.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from . import _drop, _exercise, _http, api
from ._files import STATIC, static_file
from ._hosts import HostCheck
from ._workers import Pool, Saturated

# The page needs nothing from anywhere else: no CDN, no font, no analytics.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
JSON_TYPE = "application/json; charset=utf-8"
SAFE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_GET_API = {"/api/info": api.info, "/api/zoo": api.zoo_list, "/api/examples": api.examples_list}
# POST path → the workers' route ("": the count); /api/file: a JSON line, then a file's header (_drop.py)
_POST_API = {"/api/count": "", "/api/file": "file", **_exercise.ROUTES}


@dataclass(frozen=True)
class Limits:
    """What one client, and all of them together, can take (docs/serve.md, "Limits")."""

    workers: int = min(8, max(2, os.cpu_count() or 2))  # counts at once
    queue: int = 64  # requests waiting for a worker; more get 503 at once
    count_seconds: float = 10.0  # one count's time; the worker is killed past it
    count_memory: int | None = 2 * 1024**3  # one worker's address space (RLIMIT_AS)
    connections: int = 512  # open at once; more get 503 and are closed
    backlog: int = 256  # connections the kernel holds before they are accepted
    request_seconds: float = 10.0  # to send a whole request once it has begun
    idle_seconds: float = 15.0  # a keep-alive connection with no request
    write_seconds: float = 30.0  # for the client to read its answer
    requests_per_connection: int = 1000


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    close: bool = False


class Server:
    """Bound and listening from construction (so a port in use is known at once); serves
    from :meth:`serve_forever` until :meth:`shutdown` (from another thread) or Ctrl-C."""

    def __init__(self, host: str, port: int, limits: Limits | None = None,
                 count: Callable[[bytes], Any] = api.count_request):
        self.limits = limits or Limits()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=self.limits.backlog)
        self.server_address = self.socket.getsockname()
        self.hosts = HostCheck(host, self.server_address[0])
        self._cached = {path: _json_answer(HTTPStatus.OK, make()) for path, make in _GET_API.items()}
        self._cached.update({path: Answer(HTTPStatus.OK, *_page(path)) for path in STATIC})
        try:
            self._pool = Pool(count, workers=self.limits.workers, queue=self.limits.queue,
                              seconds=self.limits.count_seconds, memory_bytes=self.limits.count_memory,
                              routes={"file": _drop.file_request, **_exercise.HANDLERS})
        except BaseException:
            self.socket.close()
            raise
        self._open = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        try:
            asyncio.run(self._main())
        finally:
            self._pool.close()
            self._stopped.set()

    def shutdown(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._stopped.wait(10)

    def server_close(self) -> None:
        self.socket.close()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(self._connection, sock=self.socket, limit=_http.MAX_HEAD_BYTES,
                                            backlog=self.limits.backlog)
        async with server:
            await self._stop.wait()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._open >= self.limits.connections:
            writer.write(_response(_error(HTTPStatus.SERVICE_UNAVAILABLE, "too many open connections; try again",
                                          {"Retry-After": "1"}), keep_alive=False))
            await _linger(reader, writer)
            return
        self._open += 1
        try:
            await self._exchange(reader, writer)
        except (OSError, TimeoutError, asyncio.IncompleteReadError):  # OSError: ENOTCONN on shutdown, too
            pass  # the client went away or stopped reading: nobody to tell
        except asyncio.CancelledError:
            # Ctrl-C with a keep-alive connection open: the run cancels this handler, and Python
            # 3.11's stream callback then calls task.exception() on it, printing a traceback. The
            # handler has nothing left to do, so it ends as finished rather than cancelled.
            return
        finally:
            self._open -= 1
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests on one connection, one after another, until one side closes."""
        limits = self.limits
        for served in range(limits.requests_per_connection):
            wait = limits.request_seconds if served == 0 else limits.idle_seconds
            try:
                request = await _http.read_request(reader, wait_seconds=wait, head_seconds=limits.request_seconds,
                                                   max_body=_max_body)
            except _http.HttpError as err:
                await _http.send(writer, _response(_error(err.status, err.message), keep_alive=False),
                                 limits.write_seconds)
                if err.unread:
                    writer.write_eof()
                    await _http.discard(reader, 4 * api.MAX_REQUEST_BYTES, 1.0)
                return
            if request is None:
                return
            answer = await self._answer(request)
            keep = request.keep_alive and not answer.close and served + 1 < limits.requests_per_connection
            await _http.send(writer, _response(answer, keep_alive=keep), limits.write_seconds)
            if not keep:
                return

    async def _answer(self, request: _http.Request) -> Answer:
        if not self.hosts.allows(request.headers.get("host", "")):
            return _error(HTTPStatus.FORBIDDEN, f"this calculator answers only requests addressed to "
                                                f"{self.hosts.describe()}")
        path = request.path.split("?", 1)[0].split("#", 1)[0]
        if request.method == "GET":
            if path in self._cached:
                return self._cached[path]
            if path == _exercise.SHEET_PATH:
                return await self._printable(request.path)
            if path in _POST_API:
                return _error(HTTPStatus.METHOD_NOT_ALLOWED, f"POST a JSON body to {path}", {"Allow": "POST"})
            return _error(HTTPStatus.NOT_FOUND, f"no such page: {path[:200]}")
        if request.method == "POST":
            return await self._count(request, path)
        return _error(HTTPStatus.NOT_IMPLEMENTED, f"unsupported method {request.method[:20]!r}; use GET or POST",
                      close=True)

    async def _count(self, request: _http.Request, path: str) -> Answer:
        if path not in _POST_API:
            return _error(HTTPStatus.NOT_FOUND, f"POST goes to {', '.join(_POST_API)}")
        kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != _post_type(path):
            return _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"send the request as Content-Type: {_post_type(path)}")
        if request.body is None:
            return _error(HTTPStatus.LENGTH_REQUIRED, "the request needs a Content-Length")
        return await self._pooled(request.body, _POST_API[path])

    async def _pooled(self, body: bytes, route: str) -> Answer:
        try:
            status, body = await self._pool.count(body, route)
        except Saturated:
            return _error(HTTPStatus.SERVICE_UNAVAILABLE, "every worker is busy and the line of waiting requests is "
                                                          "full; try again in a moment", {"Retry-After": "1"})
        return Answer(status, body, {"Content-Type": JSON_TYPE, **SAFE_HEADERS})

    async def _printable(self, path: str) -> Answer:
        """The printable exercise sheet: drawn in a worker, sent as the page it is."""
        answer = await self._pooled(_exercise.sheet_query(path), "sheet")
        if answer.status != HTTPStatus.OK:
            return answer
        html = json.loads(answer.body)["html"].encode("utf-8")
        return Answer(HTTPStatus.OK, html, {**SAFE_HEADERS, **_exercise.sheet_headers()})


def _post_type(path: str) -> str:
    """The content type a POST route takes: a dropped file's header is bytes, the rest JSON."""
    return "application/octet-stream" if path == "/api/file" else "application/json"


def _max_body(path: str) -> int:
    """A dropped file's header may run to megabytes (a GGUF vocabulary); a spec does not."""
    return _drop.MAX_FILE_REQUEST_BYTES if path.split("?", 1)[0] == "/api/file" else api.MAX_REQUEST_BYTES


def _json_answer(status: int, payload: Any, headers: dict[str, str] | None = None, close: bool = False) -> Answer:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Answer(status, body, {"Content-Type": JSON_TYPE, **SAFE_HEADERS, **(headers or {})}, close)


def _error(status: int, message: str, headers: dict[str, str] | None = None, *, close: bool = False) -> Answer:
    return _json_answer(status, api.RequestError(status, message).payload(), headers, close)


def _page(path: str) -> tuple[bytes, dict[str, str]]:
    body, content_type = static_file(path)
    return body, {"Content-Type": content_type, **SAFE_HEADERS, "Content-Security-Policy": CSP}


def _response(answer: Answer, *, keep_alive: bool) -> bytes:
    return _http.response_bytes(answer.status, answer.body, answer.headers, keep_alive=keep_alive)


def make_server(host: str, port: int, limits: Limits | None = None, **options: Any) -> Server:
    """Bound and listening; raises OSError when the address cannot be had."""
    return Server(host, port, limits, **options)


def url(server: Server) -> str:
    host, port = server.server_address[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve_forever(server: Server) -> None:
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nlearnable: stopped", file=sys.stderr)
    finally:
        server.server_close()


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Close after an answer sent before the request was read, as Apache's lingering close
    does: closing with the request unread makes the kernel reset the connection, and the
    client may then lose the answer. So the answer is flushed, the sending side shut, and
    what the client sends read and dropped for at most a second (64 KiB)."""
    try:
        await asyncio.wait_for(writer.drain(), 1.0)
        if writer.can_write_eof():
            writer.write_eof()
        await asyncio.wait_for(reader.read(65536), 1.0)
    except (OSError, TimeoutError):  # ConnectionError, ENOTCONN; asyncio's TimeoutError is the builtin since 3.11
        pass
    finally:
        writer.close()
