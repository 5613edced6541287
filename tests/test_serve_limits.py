"""`learnable serve` against hostile and unlucky clients (issue 19): bad Content-Length,
slow and vanished clients, Host names for every bind address, and each count's time and
memory budget, with the worker over it replaced. Raw sockets, so nothing smooths the bytes.

Expected answers are HTTP's (RFC 9110 statuses) and the hand arithmetic of the seed
(3×3×3×2 + 2 + 3×3×2×3 + 3 + 20×20×3×2 + 2 = 2,515).
"""

from __future__ import annotations

import json
import re
import signal
import socket
import struct
import subprocess
import time

import pytest
from conftest import EXAMPLES, learnable_command
from test_serve_api import running_server

from learnable.serve._hosts import HostCheck
from learnable.serve.server import Limits

DEEPLIZARD = (EXAMPLES / "deeplizard.yaml").read_text(encoding="utf-8")
SEED_TOTAL = (3 * 3 * 3 * 2 + 2) + (3 * 3 * 2 * 3 + 3) + (20 * 20 * 3 * 2 + 2)
HEAVY = "Input(4) | Dense(4, repeat=100000) | Dense(4, repeat=50000)"  # 150,000 layers: seconds and ~0.5 GB


def exchange(address: str, raw: bytes, *, wait: float = 10) -> tuple[int, dict, bytes]:
    """Send raw bytes, read to the end: (status, JSON payload, head)."""
    host, port = re.match(r"http://([^/]+):(\d+)/", address).groups()
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body), head


def post(body: bytes, *, length: str | None = None, host: str = "127.0.0.1") -> bytes:
    length = str(len(body)) if length is None else length
    return (f"POST /api/count HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode() + body


SEED_BODY = json.dumps({"spec": DEEPLIZARD}).encode()


@pytest.mark.parametrize(("length", "status", "words"), [
    ("²", 400, "ASCII digits"), ("-5", 400, "ASCII digits"), ("1e3", 400, "ASCII digits"),
    ("9" * 40, 413, "a 40-digit number of bytes"), ("9" * 5000, 413, "a 5000-digit number"), ("9" * 20000, 431, "over 16 KiB"),
    ("99999999999", 413, "99,999,999,999 bytes"),
])
def test_a_bad_content_length_is_one_clear_answer(length, status, words):
    with running_server() as address:
        answer, payload, head = exchange(address, post(SEED_BODY, length=length))
    assert answer == status and words in payload["error"]["message"]
    assert b"Connection: close" in head


def test_two_content_lengths_and_chunked_bodies_are_refused():
    with running_server() as address:
        twice = post(SEED_BODY).replace(b"Connection: close", f"Content-Length: {len(SEED_BODY)}".encode())
        assert exchange(address, twice)[0] == 400
        chunked = (b"POST /api/count HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n")
        assert exchange(address, chunked)[0] == 411


def test_a_slow_client_gets_408_and_a_silent_one_is_let_go():
    with running_server(limits=Limits(request_seconds=0.5)) as address:
        started = time.monotonic()
        status, payload, _ = exchange(address, b"POST /api/count HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        assert status == 408 and "0.5 s" in payload["error"]["message"]
        assert time.monotonic() - started < 5
        host, port = re.match(r"http://([^/]+):(\d+)/", address).groups()
        with socket.create_connection((host, int(port)), timeout=5) as silent:
            assert silent.recv(100) == b""  # closed after 0.5 s with no answer owed


def test_over_the_connection_limit_is_503_then_served_again():
    with running_server(limits=Limits(connections=3)) as address:
        host, port = re.match(r"http://([^/]+):(\d+)/", address).groups()
        held = [socket.create_connection((host, int(port))) for _ in range(3)]
        # Polled, not slept: on a loaded machine the server may take a while to accept the
        # three and, later, to see them closed.
        status, payload, head = _until(lambda: exchange(address, post(SEED_BODY)), lambda r: r[0] == 503)
        assert status == 503 and b"Retry-After: 1" in head
        for sock in held:
            sock.close()
        status, payload, _ = _until(lambda: exchange(address, post(SEED_BODY)), lambda r: r[0] == 200)
        assert status == 200 and payload["report"]["total_params"] == SEED_TOTAL


def _until(attempt, done, seconds: float = 10.0):
    """``attempt()`` again until ``done`` holds of its result or ``seconds`` pass; the last result."""
    deadline = time.monotonic() + seconds
    result = attempt()
    while not done(result) and time.monotonic() < deadline:
        time.sleep(0.1)
        result = attempt()
    return result


def test_a_count_over_its_time_is_stopped_and_the_worker_replaced():
    with running_server(limits=Limits(workers=1, count_seconds=1.0)) as address:
        started = time.monotonic()
        status, payload, _ = exchange(address, post(json.dumps({"spec": HEAVY}).encode()))
        assert status == 422 and "more than 1 s" in payload["error"]["message"]
        assert time.monotonic() - started < 4
        status, payload, _ = exchange(address, post(SEED_BODY))  # the one worker, new
        assert status == 200 and payload["report"]["total_params"] == SEED_TOTAL


def test_a_count_over_its_memory_is_stopped_and_the_worker_replaced():
    limits = Limits(workers=1, count_seconds=60, count_memory=400 * 2**20)
    with running_server(limits=limits) as address:
        status, payload, _ = exchange(address, post(json.dumps({"spec": HEAVY}).encode()), wait=60)
        assert status == 422 and "out of the memory" in payload["error"]["message"]
        status, payload, _ = exchange(address, post(SEED_BODY))
        assert status == 200 and payload["report"]["total_params"] == SEED_TOTAL


def test_a_full_line_of_waiting_requests_is_503():
    with running_server(limits=Limits(workers=1, queue=0, count_seconds=2)) as address:
        host, port = re.match(r"http://([^/]+):(\d+)/", address).groups()
        with socket.create_connection((host, int(port))) as heavy:
            heavy.sendall(post(json.dumps({"spec": HEAVY}).encode()))
            time.sleep(0.3)  # the one worker is on it
            status, payload, head = exchange(address, post(SEED_BODY))
        assert status == 503 and b"Retry-After: 1" in head and "busy" in payload["error"]["message"]


@pytest.mark.parametrize(("bound", "allowed", "refused"), [
    ("127.0.0.1", ["127.0.0.1:8765", "localhost:8765", "LOCALHOST", "127.0.0.2"], ["evil.example:8765", "", "10.0.0.1"]),
    ("127.0.0.2", ["127.0.0.2:8765", "localhost"], ["evil.example", "127.0.0.2.nip.io", "192.168.1.2"]),
    ("::1", ["[::1]:8765", "localhost:8765"], ["[::2]:8765", "evil.example"]),
    ("192.0.2.7", ["192.0.2.7:8765", socket.gethostname()], ["192.0.2.8", "evil.example:8765"]),
    ("0.0.0.0", ["192.0.2.7:8765", "[2001:db8::1]:80", "localhost"], ["evil.example", "rebind.attacker.test:8765"]),
])
def test_host_names_are_checked_for_every_bind_address(bound, allowed, refused):
    check = HostCheck(bound, bound)
    assert [h for h in allowed if not check.allows(h)] == []
    assert [h for h in refused if check.allows(h)] == []


def test_a_loopback_address_other_than_127_0_0_1_is_guarded_and_needs_no_note():
    process = subprocess.Popen([learnable_command(), "serve", "--host", "127.0.0.2", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        address = re.search(r"http://127\.0\.0\.2:\d+/", process.stdout.readline())[0]
        assert exchange(address, post(SEED_BODY, host="evil.example"))[0] == 403
        assert exchange(address, post(SEED_BODY, host="127.0.0.2"))[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert "note" not in stderr and "Traceback" not in stderr


def test_ctrl_c_with_a_keep_alive_connection_open_stops_quietly():
    """An idle keep-alive connection when Ctrl-C comes: its handler is cancelled, and Python
    3.11's stream callback printed that as a traceback."""
    process = subprocess.Popen([learnable_command(), "serve", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        address = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline())[0]
        host, port = re.match(r"http://([^/]+):(\d+)/", address).groups()
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(f"GET /api/info HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            assert sock.recv(12) == b"HTTP/1.1 200"
            time.sleep(0.2)  # the handler now waits for the next request on this connection
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=10)
    finally:
        process.kill()
    assert stderr.strip() == "learnable: stopped"


def test_clients_that_vanish_leave_the_console_quiet():
    process = subprocess.Popen([learnable_command(), "serve", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        address = re.search(r"http://127\.0\.0\.1:\d+/", process.stdout.readline())[0]
        host, port = re.match(r"http://([^/]+):(\d+)/", address).groups()
        big = json.dumps({"spec": "Input(4) | Dense(4, repeat=3000)", "format": "markdown"}).encode()
        for raw in (post(big), post(SEED_BODY, length="²"), post(SEED_BODY, length="9" * 40),
                    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"):
            with socket.create_connection((host, int(port))) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
                sock.sendall(raw)
                sock.recv(10)  # the answer has begun; go away in the middle of it
        assert exchange(address, post(SEED_BODY))[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert stderr.strip() == "learnable: stopped"


def test_a_worker_whose_server_stopped_mid_count_leaves_quietly():
    """The server stops (its end of the pipe closed) while a worker counts: the answer has
    nowhere to go, and the worker ends without a BrokenPipeError traceback on the console."""
    import multiprocessing

    from learnable.serve import _workers

    server_end, worker_end = multiprocessing.Pipe()
    server_end.send(("", b"{}"))
    server_end.close()
    handler = signal.getsignal(signal.SIGINT)
    try:
        _workers._serve(worker_end, {"": lambda body: {"counted": len(body)}}, None)  # returns, raises nothing
    finally:
        signal.signal(signal.SIGINT, handler)  # _serve ignores Ctrl-C, as a worker process should
