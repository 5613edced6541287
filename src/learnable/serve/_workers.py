"""The count runs where it can be stopped: a fixed pool of worker processes, each with an
address-space limit, each request with a time limit; a worker over either is killed and
replaced, and the request gets one clear line.

A thread cannot be stopped from outside, and a spec of 150,000 layers takes seconds and
hundreds of MB; in a process the operating system enforces the memory limit
(``RLIMIT_AS``: a ``MemoryError`` in the worker) and the server can ``kill`` it when the
time is up. The pool is bounded (``workers``), and so is the line of requests waiting for a
worker (``queue``): beyond it a request is refused at once (503) instead of piling up.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

from .. import _child as bounded
from . import api

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # 150,000 Dense layers answer 108 MB of JSON, more than a page can use


class Saturated(Exception):
    """Every worker is busy and the line of waiting requests is full."""


class Pool:
    """``workers`` processes running ``count`` (body bytes → JSON payload), or another of
    ``routes`` where a request names one (the exercise page's, serve/_exercise.py), fed by the
    event loop through one thread per worker (a thread that only waits on a pipe)."""

    def __init__(self, count: Callable[[bytes], Any], *, workers: int, queue: int, seconds: float,
                 memory_bytes: int | None, routes: dict[str, Callable[[bytes], Any]] | None = None):
        self.seconds, self.queue = seconds, queue
        context = bounded.context(["learnable.serve._workers"])
        handlers = {"": count, **(routes or {})}
        self._workers = [_Worker(context, handlers, memory_bytes) for _ in range(workers)]
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="learnable-count")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._waiting = 0

    async def count(self, body: bytes, route: str = "") -> tuple[int, bytes]:
        """(status, JSON bytes) of one count (or of ``route``); raises :class:`Saturated`."""
        loop = asyncio.get_running_loop()
        if self._idle is None:
            self._idle = asyncio.Queue()
            for worker in self._workers:
                self._idle.put_nowait(worker)
        if self._idle.empty() and self._waiting >= self.queue:
            raise Saturated
        self._waiting += 1
        try:  # a request waits at most one count's budget for a worker
            worker = await asyncio.wait_for(self._idle.get(), self.seconds)
        except TimeoutError:
            raise Saturated from None
        finally:
            self._waiting -= 1
        job = self._threads.submit(worker.run, body, self.seconds, route)
        # back in the pool when the count ends, even if the connection that asked has gone
        job.add_done_callback(lambda _: loop.call_soon_threadsafe(self._idle.put_nowait, worker))
        return await asyncio.wrap_future(job)

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()
        self._threads.shutdown(wait=False, cancel_futures=True)


class _Worker:
    def __init__(self, context, handlers: dict[str, Callable[[bytes], Any]], memory_bytes: int | None):
        self._context, self._handlers, self._memory = context, handlers, memory_bytes
        self._lock = threading.Lock()
        self._start()

    def _start(self) -> None:
        self._pipe, child = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(child, self._handlers, self._memory), daemon=True,
                                              name="learnable-count")
        self._process.start()
        child.close()

    def run(self, body: bytes, seconds: float, route: str = "") -> tuple[int, bytes]:
        with self._lock:
            try:
                self._pipe.send((route, body))
                if self._pipe.poll(seconds):
                    status, answer, report, retire = self._pipe.recv()
                    if report:
                        print(report, file=sys.stderr, end="", flush=True)  # a bug: its traceback on the console
                    if retire:
                        self._restart()
                    return status, answer
                message = f"the count took more than {seconds:g} s, this server's limit per request; it was stopped"
            except (EOFError, OSError):
                message = "the count ran out of the memory this server allows a request; it was stopped"
            self._restart()
            return _error(HTTPStatus.UNPROCESSABLE_ENTITY, message)

    def _restart(self) -> None:
        self.stop()
        self._start()

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)
        self._pipe.close()


# --- in the worker process ---------------------------------------------------------------

def _serve(pipe, handlers: dict[str, Callable[[bytes], Any]], memory_bytes: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the server stops us
    bounded.limit_memory(memory_bytes)
    while True:
        try:
            route, body = pipe.recv()  # only the server writes to this pipe
        except (EOFError, OSError):
            return  # the server has gone
        answer = _answer(handlers[route], body)
        try:
            pipe.send(answer)
        except OSError:  # BrokenPipeError: the server stopped while this count ran; nobody to answer
            return
        if answer[3]:
            os._exit(0)


def _answer(count: Callable[[bytes], Any], body: bytes) -> tuple[int, bytes, str, bool]:
    """(status, JSON bytes, a traceback for the console or '', whether to retire this worker)."""
    try:
        data = json.dumps(count(body), ensure_ascii=False).encode("utf-8")
    except api.RequestError as err:
        return err.status, json.dumps(err.payload(), ensure_ascii=False).encode("utf-8"), "", False
    except MemoryError:  # RLIMIT_AS: what was built is gone with the stack; a fresh worker is cleaner
        return (*_error(HTTPStatus.UNPROCESSABLE_ENTITY, "the count ran out of the memory this server allows a "
                                                         "request; it was stopped"), "", True)
    except Exception as err:  # noqa: BLE001 (a bug in learnable: say so; the traceback goes to the console)
        return (*_error(HTTPStatus.INTERNAL_SERVER_ERROR, f"learnable failed on this spec (a bug, please report it): "
                                                          f"{type(err).__name__}: {err}"), traceback.format_exc(), False)
    if len(data) > MAX_ANSWER_BYTES:
        return (*_error(HTTPStatus.UNPROCESSABLE_ENTITY, f"the answer would be {len(data) / 2**20:,.0f} MB, over this "
                                                         f"server's limit of {MAX_ANSWER_BYTES // 2**20} MB"), "", False)
    return HTTPStatus.OK, data, "", False


def _error(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps(api.RequestError(status, message).payload(), ensure_ascii=False).encode("utf-8")
