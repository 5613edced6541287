"""`learnable serve` under load, on loopback, in a few seconds (issue 19): 20 concurrent
clients counting the first seed, then the same while 200 slow clients send a byte a second
and two specs of 150,000 layers are counted, then again once they stop. Every answer must
be right (2,515, the seed's hand arithmetic) and normal requests must stay fast.

Run with ``-s`` to see the numbers (docs/serve.md quotes them). The server runs in its own
process, as ``learnable serve`` does, so the clients' threads do not share its interpreter.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

import pytest
from conftest import EXAMPLES

SEED_TOTAL = (3 * 3 * 3 * 2 + 2) + (3 * 3 * 2 * 3 + 3) + (20 * 20 * 3 * 2 + 2)
SEED = json.dumps({"spec": (EXAMPLES / "deeplizard.yaml").read_text(encoding="utf-8")})
HEAVY = json.dumps({"spec": "Input(4) | Dense(4, repeat=100000) | Dense(4, repeat=50000)"})
CLIENTS, SLOW_CLIENTS, SECONDS = 20, 200, 1.5
# The server as `learnable serve` runs it, with the per-count time cut to 3 s so the test stays short.
LAUNCH = ("from learnable.serve.server import Limits, make_server, serve_forever, url; "
          "s = make_server('127.0.0.1', 0, Limits(workers=4, count_seconds=3)); print(url(s), flush=True); "
          "serve_forever(s)")


@pytest.fixture(scope="module")
def server():
    process = subprocess.Popen([sys.executable, "-c", LAUNCH], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        host, port = re.match(r"http://([^/]+):(\d+)/", process.stdout.readline()).groups()
        yield host, int(port)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        assert "Traceback" not in stderr


def load(server, seconds: float = SECONDS) -> dict:
    """CLIENTS threads, each on one keep-alive connection, counting the seed for ``seconds``."""
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def client():
        connection = http.client.HTTPConnection(*server, timeout=10)
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/count", SEED, {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = json.loads(response.read())
                if response.status != 200 or payload["report"]["total_params"] != SEED_TOTAL:
                    errors.append(f"{response.status}: {str(payload)[:200]}")
            except (OSError, http.client.HTTPException) as err:
                errors.append(repr(err))
                connection.close()
                connection = http.client.HTTPConnection(*server, timeout=10)
            latencies.append(time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cuts = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "per_s": len(latencies) / seconds, "p50_ms": cuts[49] * 1000,
            "p99_ms": cuts[98] * 1000, "errors": errors}


def slow_clients(server, count: int, stop: threading.Event) -> threading.Thread:
    """``count`` connections that each send one byte of a request a second, until ``stop``."""
    def run():
        sockets = [socket.create_connection(server) for _ in range(count)]
        text = b"POST /api/count HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for i in range(len(text)):
            if stop.wait(0 if i == 0 else 1):
                break
            for sock in sockets:
                try:
                    sock.send(text[i:i + 1])
                except OSError:
                    pass  # the server let it go (408): as it should, in time
        for sock in sockets:
            sock.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def heavy(server, answers: list) -> threading.Thread:
    def run():
        connection = http.client.HTTPConnection(*server, timeout=30)
        connection.request("POST", "/api/count", HEAVY, {"Content-Type": "application/json"})
        answers.append(connection.getresponse().status)
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def report(phase: str, result: dict) -> None:
    print(f"\n{phase}: {result['requests']} requests, {result['per_s']:.0f}/s, p50 {result['p50_ms']:.1f} ms, "
          f"p99 {result['p99_ms']:.1f} ms, {len(result['errors'])} errors")


def test_twenty_clients_then_under_slow_clients_and_heavy_specs_then_recovered(server):
    calm = load(server)
    report("20 clients", calm)
    assert calm["errors"] == [] and calm["p50_ms"] < 100

    stop, heavy_answers = threading.Event(), []
    slow = slow_clients(server, SLOW_CLIENTS, stop)
    heavies = [heavy(server, heavy_answers) for _ in range(2)]
    time.sleep(0.3)  # the slow clients connected, the heavy counts begun
    attacked = load(server)
    report(f"20 clients + {SLOW_CLIENTS} slow clients + 2 heavy specs", attacked)
    assert attacked["errors"] == []
    assert attacked["p50_ms"] < 100 and attacked["p99_ms"] < 1000  # milliseconds, with generous room for CI
    stop.set()
    slow.join()
    for thread in heavies:
        thread.join()
    assert heavy_answers == [422, 422]  # over the 3 s budget: stopped, said so

    recovered = load(server, 1.0)
    report("20 clients, after", recovered)
    assert recovered["errors"] == [] and recovered["p50_ms"] < 100
