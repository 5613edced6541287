"""`learnable serve`'s JSON API through a real HTTP client (urllib) against a server on an
ephemeral port, and the command itself: its address, Ctrl-C, a port in use.

Expected counts are the tutorials' hand arithmetic (the first seed: 3×3×3×2 + 2 = 56,
3×3×2×3 + 3 = 57, 20×20×3×2 + 2 = 2,402, total 2,515), never the tool's output.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import EXAMPLES, learnable_command
from hypothesis import given, settings
from hypothesis import strategies as st

from learnable.serve import api
from learnable.serve.server import make_server, url

DEEPLIZARD = (EXAMPLES / "deeplizard.yaml").read_text(encoding="utf-8")
SEED_TOTAL = 0 + (3 * 3 * 3 * 2 + 2) + (3 * 3 * 2 * 3 + 3) + 0 + (20 * 20 * 3 * 2 + 2)
assert SEED_TOTAL == 2515  # the seed's own sum


@contextlib.contextmanager
def running_server(**options) -> Iterator[str]:
    """A calculator on 127.0.0.1 and a free port, in a thread; yields its address."""
    server = make_server("127.0.0.1", 0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url(server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running_server() as address:
        yield address


def request(base: str, path: str, body: bytes | dict | None = None, *, headers: dict | None = None,
            method: str | None = None) -> tuple[int, dict, dict]:
    """(status, JSON payload, headers) of one request; HTTP errors are answers too."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    sent = {"Content-Type": "application/json", **(headers or {})} if data is not None else headers or {}
    req = urllib.request.Request(base.rstrip("/") + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def count(base: str, spec: str, **fields) -> tuple[int, dict]:
    status, payload, _ = request(base, "/api/count", {"spec": spec, **fields})
    return status, payload


def test_the_first_seed_counts_with_its_arithmetic(base):
    status, payload = count(base, DEEPLIZARD)
    assert status == 200
    report = payload["report"]
    assert report["total_params"] == SEED_TOTAL
    assert [layer["params"] for layer in report["layers"]] == [0, 56, 57, 0, 2402]
    assert [layer["output_shape"] for layer in report["layers"]] == [[20, 20, 3], [20, 20, 2], [20, 20, 3],
                                                                     [20 * 20 * 3], [2]]
    assert report["layers"][1]["formula"] == "3×3×3×2 + 2 = 56"
    assert payload["chart"].startswith("<svg") and payload["chart"].endswith("</svg>")
    assert payload["diagram"].startswith("<svg") and "(20, 20, 2)" in payload["diagram"]
    assert payload["convention_text"].startswith("Keras")
    assert "text" not in payload


@pytest.mark.parametrize(("fmt", "expected"), [
    ("markdown", "| conv2d | Conv2D | (20, 20, 2) | 56 | 3×3×3×2 + 2 = 56 |"),
    ("csv", "dense,Dense,\"(2,)\",2402,2402,0,0,"),
    ("latex", r"1{,}200$\times$2 + 2 = 2{,}402"),
    ("json", '"total_params": 2515'),
])
def test_formats_come_from_the_renderers(base, fmt, expected):
    status, payload = count(base, DEEPLIZARD, format=fmt)
    assert status == 200 and payload["format"] == fmt
    assert expected in payload["text"]


def test_the_convention_switch_moves_batchnorm_statistics(base):
    spec = "Input(4, 4, 3) | BatchNormalization()"
    _, keras = count(base, spec, convention="keras")
    _, torch = count(base, spec, convention="pytorch")
    # Keras: gamma, beta, moving mean and variance, 3 each; the last two non-trainable
    assert (keras["report"]["total_params"], keras["report"]["non_trainable_params"]) == (4 * 3, 2 * 3)
    # PyTorch: weight and bias are params; running mean, var and num_batches_tracked buffers
    assert (torch["report"]["total_params"], torch["report"]["total_buffers"]) == (2 * 3, 2 * 3 + 1)


def test_a_zoo_name_counts_from_the_package(base):
    status, payload = count(base, "zoo:lenet5")
    # 5×5×1×6 + 6, 5×5×6×16 + 16, 400×120 + 120, 120×84 + 84, 84×10 + 10
    assert status == 200
    assert payload["report"]["total_params"] == 156 + 2416 + 48120 + 10164 + 850


@pytest.mark.parametrize(("spec", "line", "words"), [
    ("input: [20, 20, 3]\nlayers:\n  - Conv2D: {filters: 2, kernel_size: 3}\n  - Conv2D: {filters: 3, kernel_size: 30}\n",
     4, "kernel 30×30 is larger than its input 18×18"),
    # an unclosed brace is found where the text ends (the message adds where the mapping began)
    ("input: [20, 20, 3]\nlayers:\n  - Conv2D: {filters: 2, kernel_size: 3\n  - Flatten\n", 5, "at line 3"),
    ("Input(3, 3, 1)\nConv2D(8, 1)\nConv2D(8, 5)\n", 3, "kernel 5×5"),
    ("input: [4]\nlayers:\n  - Dense: 3\n  - Dence: 2\n", 4, "did you mean 'Dense'"),
])
def test_errors_name_their_line(base, spec, line, words):
    status, payload = count(base, spec)
    assert status == 422
    assert payload["error"]["line"] == line
    assert words in payload["error"]["message"] and f"line {line}" in payload["error"]["message"]


@pytest.mark.parametrize("spec", ["examples/deeplizard.yaml", str(EXAMPLES / "deeplizard.yaml"), "/etc/passwd",
                                  "model.onnx", "tests/conftest.py:run_cli", "../pyproject.toml"])
def test_paths_are_text_never_files(base, spec):
    status, payload = count(base, spec)
    assert status == 422, payload
    assert "2,515" not in payload["error"]["message"] and "root:" not in payload["error"]["message"]


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"{not json", 400, "not JSON"),
    (b"[1, 2]", 400, "JSON object"),
    ({"convention": "keras"}, 400, "no 'spec'"),
    ({"spec": 3}, 400, "'spec' must be a string"),
    ({"spec": "Dense(2)", "convention": "caffe"}, 400, "'convention' must be keras, pytorch or null"),
    ({"spec": "Dense(2)", "format": "html"}, 400, "'format' must be json, markdown, csv, latex"),
    ({"spec": "Dense(2)", "depth": -1}, 400, "'depth'"),
    ({"spec": "Dense(2)", "path": "/etc/passwd"}, 400, "unknown field 'path'"),
])
def test_bad_requests_say_what_is_wrong(base, body, status, words):
    answer, payload, _ = request(base, "/api/count", body)
    assert answer == status
    assert words in payload["error"]["message"]


def test_memory_and_macs_options(base):
    status, payload = count(base, DEEPLIZARD, memory={"batch": 2, "optimizer": "sgd"}, macs=True, format="markdown")
    assert status == 200
    weights = payload["memory"]["inference"][0]
    assert weights["bytes"] == 2_515 * 4  # the seed's 2,515 parameters in fp32
    assert "Total MACs:" in payload["text"] and "Training memory:" in payload["text"]
    status, payload = count(base, DEEPLIZARD, memory={"dtype": "fp64"})
    assert status == 400 and "'memory.dtype' must be one of" in payload["error"]["message"]


def test_requests_over_the_limit_get_413(base):
    status, payload, _ = request(base, "/api/count", {"spec": "#" * (api.MAX_REQUEST_BYTES + 1)})
    assert status == 413
    assert "262,144 bytes (256 KiB)" in payload["error"]["message"]


@pytest.mark.parametrize(("headers", "status"), [
    ({"Content-Type": "text/plain"}, 415),  # what a cross-site form could send
    ({"Host": "attacker.example:8765"}, 403),  # DNS rebinding
])
def test_cross_site_requests_are_refused(base, headers, status):
    answer, payload, _ = request(base, "/api/count", json.dumps({"spec": DEEPLIZARD}).encode(), headers=headers)
    assert answer == status and payload["error"]["message"]


def test_other_methods_and_paths(base):
    assert request(base, "/api/count")[0] == 405
    assert request(base, "/etc/passwd")[0] == 404
    assert request(base, "/../pyproject.toml")[0] == 404
    assert request(base, "/api/count", b"{}", method="PUT")[0] == 501


def test_lists_and_info(base):
    status, zoo, _ = request(base, "/api/zoo")
    assert status == 200
    lenet = next(entry for entry in zoo if entry["name"] == "zoo:lenet5")
    assert "LeNet-5" in lenet["description"] and "Conv2d" in lenet["spec"]
    _, examples, _ = request(base, "/api/examples")
    assert {e["name"] for e in examples} >= {"deeplizard.yaml", "simple_cnn.yaml", "simple_cnn.txt"}
    assert next(e for e in examples if e["name"] == "deeplizard.yaml")["spec"] == DEEPLIZARD
    _, info, _ = request(base, "/api/info")
    assert info["max_request_bytes"] == 256 * 1024 and info["conventions"] == ["keras", "pytorch"]


def test_the_page_and_its_files_need_no_network(base):
    for path in ("/", "/app.js", "/view.js", "/sizing.js", "/app.css"):
        with urllib.request.urlopen(base.rstrip("/") + path, timeout=10) as response:
            text = response.read().decode()
            csp = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp and "connect-src 'self'" in csp
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), path
        assert "@import" not in text and "@font-face" not in text


# --- the command ---------------------------------------------------------------------------

def _start(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([learnable_command(), "serve", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    return process, line


def test_serve_prints_its_address_and_stops_on_ctrl_c():
    process, line = _start("--port", "0")
    try:
        address = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert address, line
        status, payload, _ = request(address[0], "/api/count", {"spec": DEEPLIZARD})
        assert status == 200 and payload["report"]["total_params"] == SEED_TOTAL
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr and "stopped" in stderr


def test_a_port_in_use_is_one_line_and_exit_2():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run([learnable_command(), "serve", "--port", str(port)], capture_output=True, text=True, check=False,
                                timeout=30)
    assert result.returncode == 2 and time.monotonic() - started < 30
    assert result.stderr == f"learnable: error: port {port} on 127.0.0.1 is in use; stop what uses it or choose " \
                            f"another port with --port N\n"


def test_a_huge_network_counts_without_its_figures(base):
    status, payload = count(base, f"Input(4) | Dense(4, repeat={api.MAX_FIGURE_LAYERS})")
    assert status == 200
    assert payload["report"]["total_params"] == api.MAX_FIGURE_LAYERS * (4 * 4 + 4)
    assert payload["chart"] is None and payload["diagram"] is None
    assert "too many to draw" in payload["figures_note"]


# Characters str.splitlines() breaks lines at, beyond \n and \r: the compact parser's
# handling of them is being reworked (see the hand-over note), so this property leaves them out.
_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters=_LINE_BREAKS), max_size=120)
       | st.text(alphabet="Input(3,)|Conv2D[]{}: -\nlayers:Dense'\"=#$&*!0", max_size=120))
def test_any_text_is_an_answer_never_a_bug(text):
    try:
        payload = api.count_request(json.dumps({"spec": text}).encode())
    except api.RequestError as err:
        assert err.status == 422 and err.message
    else:
        assert isinstance(payload["report"]["total_params"], int)


def broken(body):
    """A count with a bug in it (module level: the worker process imports it by name)."""
    raise ZeroDivisionError("division by zero")


def test_a_bug_is_a_500_that_says_so(capsys):
    with running_server(count=broken) as address:
        status, payload = count(address, DEEPLIZARD)
    assert status == 500
    assert payload["error"]["message"] == "learnable failed on this spec (a bug, please report it): " \
                                          "ZeroDivisionError: division by zero"
    assert "Traceback" in capsys.readouterr().err  # kept for the bug report, on the server's console


MLP_CODE = """import torch.nn as nn

class MLP(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(784, width)
        self.fc2 = nn.Linear(width, classes)

    def forward(self, x):
        return self.fc2(self.fc1(x.view(x.size(0), -1)).relu())
"""


def test_model_code_counts_with_its_input_model_and_values(base):
    status, payload = count(base, MLP_CODE, input="1x28x28", model="MLP(32)", values="classes=10")
    assert status == 200 and payload["source"] == "code"
    report = payload["report"]
    assert report["total_params"] == (784 * 32 + 32) + (32 * 10 + 10)
    assert [row["output_shape"] for row in report["layers"]][-1] == [10] and report["notes"] == []


def test_model_code_errors_name_their_line_and_options_are_checked(base):
    status, payload = count(base, MLP_CODE, model="MLP(32)")
    assert status == 422 and payload["error"]["line"] == 7 and "--set classes=" in payload["error"]["message"]
    status, payload = count(base, MLP_CODE, input="3 x y")
    assert status == 400 and "input must be sizes" in payload["error"]["message"]
    status, payload = count(base, MLP_CODE, values="classes")
    assert status == 400 and "NAME=VALUE" in payload["error"]["message"]


def test_a_python_file_name_is_text_not_a_file(base, tmp_path):
    path = tmp_path / "net.py"
    path.write_text("import torch.nn as nn\nmodel = nn.Linear(3, 2)\n")
    status, payload = count(base, str(path))
    assert status == 422 and "not a list of layer calls" in payload["error"]["message"]  # read as text
