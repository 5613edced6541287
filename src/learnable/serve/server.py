"""The HTTP side of ``learnable serve``: the standard library's ThreadingHTTPServer, the
packaged page, and the JSON API of :mod:`.api`.

Bound to 127.0.0.1 by default. Two guards keep other web sites the user visits from
using it: on a loopback address only requests whose Host is a loopback name are answered
(DNS rebinding), and POST needs ``Content-Type: application/json``, which a cross-site
form cannot send and a cross-site fetch can only send after a preflight this server
never approves (it sends no CORS headers).
"""

from __future__ import annotations

import json
import socket
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import api
from ._files import static_file

LOOPBACK = ("127.0.0.1", "localhost", "::1")
# The page needs nothing from anywhere else: no CDN, no font, no analytics.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
JSON_TYPE = "application/json; charset=utf-8"
_GET_API = {"/api/info": api.info, "/api/zoo": api.zoo_list, "/api/examples": api.examples_list}


class Handler(BaseHTTPRequestHandler):
    server_version = "learnable"

    def do_GET(self) -> None:
        if not self._host_allowed():
            return
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path in _GET_API:
            self._json(HTTPStatus.OK, _GET_API[path]())
        elif (found := static_file(path)) is not None:
            self._send(HTTPStatus.OK, *found, page=True)
        elif path == "/api/count":
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, "POST a JSON body to /api/count", Allow="POST")
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such page: {path[:200]}")

    def do_POST(self) -> None:
        if not self._host_allowed():
            return
        if self.path.split("?", 1)[0] != "/api/count":
            self._error(HTTPStatus.NOT_FOUND, "POST goes to /api/count")
            return
        body = self._body()
        if body is None:
            return
        try:
            self._json(HTTPStatus.OK, api.count_request(body))
        except api.RequestError as err:
            self._json(err.status, err.payload())
        except Exception as err:  # noqa: BLE001 (a bug in learnable: say so; the traceback goes to the console)
            traceback.print_exc()
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"learnable failed on this spec (a bug, please report "
                                                          f"it): {type(err).__name__}: {err}")

    def _body(self) -> bytes | None:
        """The request's body within the size limit, or None after answering an error."""
        kind = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if kind != "application/json":
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the request as Content-Type: application/json")
            return None
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            self._error(HTTPStatus.LENGTH_REQUIRED, "the request needs a Content-Length")
            return None
        if int(length) > api.MAX_REQUEST_BYTES:
            self.close_connection = True  # the unread body must not be taken for the next request
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"the request is {int(length):,} bytes; the limit is {api.MAX_REQUEST_BYTES:,} bytes "
                        f"({api.MAX_REQUEST_BYTES // 1024} KiB), far more than any spec needs")
            return None
        return self.rfile.read(int(length))

    def _host_allowed(self) -> bool:
        if self.server.server_address[0] not in ("127.0.0.1", "::1"):
            return True  # bound to another address on purpose (--host): any name may reach it
        if _host_name(self.headers.get("Host", "")) in LOOPBACK:
            return True
        self._error(HTTPStatus.FORBIDDEN, "this calculator answers only requests addressed to 127.0.0.1 or localhost")
        return False

    def _json(self, status: int, payload: Any, **headers: str) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), JSON_TYPE, **headers)

    def _error(self, status: int, message: str, **headers: str) -> None:
        self._json(status, api.RequestError(status, message).payload(), **headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request, an unknown method) in JSON too."""
        self.close_connection = True
        self._error(code, message or HTTPStatus(code).phrase)

    def _send(self, status: int, body: bytes, content_type: str, *, page: bool = False, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if page:
            self.send_header("Content-Security-Policy", CSP)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would bury the address the user needs


def _host_name(header: str) -> str:
    """'localhost:8765' → 'localhost'; '[::1]:8765' → '::1'."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0].lower()


class Server(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C does not wait for a slow request


class Server6(Server):
    address_family = socket.AF_INET6


def make_server(host: str, port: int) -> Server:
    """Bound and listening; raises OSError when the address cannot be had."""
    return (Server6 if ":" in host else Server)((host, port), Handler)


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
