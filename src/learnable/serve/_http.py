"""HTTP/1.1 on asyncio streams, as little of it as the calculator needs, every part bounded.

A connection costs a socket, not a thread, until its request has fully arrived: a client
that sends a byte a second holds nothing but its socket, and only for ``head_seconds``.
The request line and headers are limited to :data:`MAX_HEAD_BYTES` and :data:`MAX_HEADERS`;
the body must announce its size in a ``Content-Length`` of ASCII digits (no chunked
bodies: the page and curl always send one), checked before a byte of it is read.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

MAX_HEAD_BYTES = 16 * 1024  # request line and headers; browsers send about 1 KiB
MAX_HEADERS = 100
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_LENGTH = re.compile(r"[0-9]+")  # ASCII digits only: str.isdigit() takes '²', which int() refuses
_SINGLE = ("content-length", "host", "content-type", "transfer-encoding")  # one of each, or the request is ambiguous


class HttpError(Exception):
    """A request refused before it reaches a route: its status and a one-line message.
    ``unread`` marks a body left on the socket, so the connection must close."""

    def __init__(self, status: int, message: str, *, unread: bool = False):
        super().__init__(message)
        self.status, self.message, self.unread = status, message, unread


@dataclass
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # None: no Content-Length was sent

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        return self.version == "HTTP/1.1" and "close" not in connection


async def read_request(reader: asyncio.StreamReader, *, wait_seconds: float, head_seconds: float,
                       max_body: int | Callable[[str], int]) -> Request | None:
    """The next request, or None when the client closes or sends nothing for
    ``wait_seconds`` (an idle keep-alive connection, a browser's spare socket: no answer is
    owed). Once its first byte has come, the whole request must come in ``head_seconds``,
    else :class:`HttpError` 408. ``max_body`` may depend on the request's path."""
    try:
        first = await asyncio.wait_for(reader.read(1), wait_seconds)
    except TimeoutError:
        return None
    if not first:
        return None
    try:
        return await asyncio.wait_for(_rest(first, reader, max_body), head_seconds)
    except TimeoutError:
        raise HttpError(HTTPStatus.REQUEST_TIMEOUT, f"the request did not arrive within {head_seconds:g} s",
                        unread=True) from None


async def _rest(first: bytes, reader: asyncio.StreamReader, max_body: int | Callable[[str], int]) -> Request | None:
    try:
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                        f"the request line and headers are over {MAX_HEAD_BYTES // 1024} KiB", unread=True) from None
    except asyncio.IncompleteReadError:
        return None  # the client went away mid-request: nobody to answer
    request = parse_head(head)
    length = body_length(request.headers, max_body(request.path) if callable(max_body) else max_body)
    if length is not None:
        try:
            request.body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return None
    return request


def parse_head(head: bytes) -> Request:
    """The request line and headers (``head`` ends with the blank line)."""
    lines = head[:-4].split(b"\r\n")
    if len(lines) > MAX_HEADERS + 1:
        raise HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, f"more than {MAX_HEADERS} headers", unread=True)
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[1].startswith("/"):
        raise HttpError(HTTPStatus.BAD_REQUEST, "a malformed request line; expected METHOD /path HTTP/1.1",
                        unread=True)
    method, path, version = parts
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise HttpError(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "this server speaks HTTP/1.0 and HTTP/1.1",
                        unread=True)
    return Request(method, path, version, _headers(lines[1:]))


def _headers(lines: list[bytes]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise HttpError(HTTPStatus.BAD_REQUEST, "a malformed header line; expected 'Name: value'", unread=True)
        key, text = name.decode("ascii").lower(), value.strip(b" \t").decode("latin-1")
        if key in headers and key in _SINGLE:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"the request has two {key.title()} headers", unread=True)
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers


def body_length(headers: dict[str, str], max_body: int) -> int | None:
    """The announced body size, checked before the body is read; None when there is none."""
    if "transfer-encoding" in headers:
        raise HttpError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length (chunked bodies are not "
                                                    "taken)", unread=True)
    text = headers.get("content-length")
    if text is None:
        return None
    if not _LENGTH.fullmatch(text):
        raise HttpError(HTTPStatus.BAD_REQUEST, f"Content-Length must be a whole number of bytes in ASCII digits, "
                                                f"got {text[:40]!r}", unread=True)
    if len(text) > 15 or int(text) > max_body:  # the length first: int() of 5,000 digits is refused
        size = f"{int(text):,} bytes" if len(text) <= 15 else f"a {len(text)}-digit number of bytes"
        raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"the request is {size}; the limit is {max_body:,} bytes "
                        f"({max_body // 1024} KiB), far more than any spec needs", unread=True)
    return int(text)


def response_bytes(status: int, body: bytes, headers: dict[str, str], *, keep_alive: bool) -> bytes:
    """Status line, headers and body, ready for the socket."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: learnable",
             f"Content-Length: {len(body)}", f"Connection: {'keep-alive' if keep_alive else 'close'}",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def send(writer: asyncio.StreamWriter, data: bytes, seconds: float) -> None:
    """Write within ``seconds``; a client that does not read its answer is cut off."""
    writer.write(data)
    try:
        await asyncio.wait_for(writer.drain(), seconds)
    except TimeoutError:
        writer.transport.abort()
        raise ConnectionAbortedError("the client did not read its answer") from None


async def discard(reader: asyncio.StreamReader, limit: int, seconds: float) -> None:
    """Read and drop what the client is still sending (a refused body), for a moment, so
    that closing the socket does not reset the connection before it reads the answer."""
    async def drain() -> None:
        left = limit
        while left > 0 and (chunk := await reader.read(min(left, 65536))):
            left -= len(chunk)

    try:
        await asyncio.wait_for(drain(), seconds)
    except (TimeoutError, ConnectionError):
        pass
