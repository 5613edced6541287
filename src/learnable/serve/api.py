"""The calculator's JSON API, apart from HTTP: a request body in, a JSON payload out.

The server reads nothing a request names. A spec is text (YAML, JSON or the compact form)
parsed in memory, or ``zoo:NAME``, a file shipped in the package and looked up among the
zoo's names; model code is text too, read by the code reader (never run, its work bounded).
Paths, ``FILE.py:NAME`` and model files are never opened, because the text never reaches
:func:`learnable.spec.load` or :func:`learnable.code.code_source` (which would treat a path
as a file); nothing is executed. A Hugging Face ``config.json`` pasted as text is read as
JSON by the config reader, for the families it lays out itself (never through transformers).
The sizing fields (memory's set-up, LoRA, a GPU, training tokens) are checked in _sizing.py.
See docs/serve.md for the contract.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .._gc import gc_paused
from ..errors import LearnableError
from ..render import html as html_render
from ..render import render
from ..render._columns import CONVENTION_TEXT, Show
from ..rules import CONVENTIONS, DATA_FORMATS
from ..spec import parse_text, zoo
from ..spec.build import build_graph
from . import _catalog, _linking, _sizing

MAX_REQUEST_BYTES = 256 * 1024  # a spec is a few KB; the largest zoo model is under 20 KB
MAX_FIGURE_LAYERS = 2_000  # beyond this the SVGs run to megabytes and say nothing more
FORMATS = ("json", "markdown", "csv", "latex")
FIELDS = ("spec", "convention", "data_format", "format", "depth", "input", "model", "values", *_sizing.TOP_FIELDS)
# The page's toggles: MACs (in every report; true adds them to the rendered formats) and
# memory (true, or {"batch", "dtype", "optimizer", "context", "kv_dtype", "parallel"}: an
# estimate, docs/compute.md).
OPTIONS = ("macs", "memory")
_LINE = re.compile(r"\bline (\d+)(?:, column (\d+))?")
_SVG = re.compile(r"<svg\b.*</svg>", re.DOTALL)


class RequestError(Exception):
    """A request the API refuses: its HTTP status, a message, and where in the spec."""

    def __init__(self, status: int, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.status, self.message, self.line, self.column = status, message, line, column

    def payload(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "line": self.line, "column": self.column}}


def available_options() -> list[str]:
    """The options this version takes (GET /api/info lists them for the page)."""
    return list(OPTIONS)


def info() -> dict[str, Any]:
    from .. import __version__
    from ..memory import DTYPE_BITS, KV_DTYPES, OPTIMIZERS

    return {"version": __version__, "conventions": list(CONVENTIONS), "data_formats": list(DATA_FORMATS),
            "formats": list(FORMATS), "options": available_options(), "max_request_bytes": MAX_REQUEST_BYTES,
            "dtypes": list(DTYPE_BITS), "kv_dtypes": list(KV_DTYPES), "optimizers": list(OPTIMIZERS),
            "accelerators": _sizing.accelerators()}


def count_request(body: bytes) -> dict[str, Any]:
    """POST /api/count: the report as JSON, its chart and diagram as SVG, and with
    ``format`` the report rendered in it. Raises :class:`RequestError`."""
    request = _decode(body)
    spec_text = _field(request, "spec", str, required=True)
    code = _code_options(request)
    return answer(request, lambda convention, data_format: _graph(spec_text, convention, data_format, code),
                  _source_kind(spec_text, code), spec_text)


def answer(request: dict[str, Any], make_graph: Any, source: str, text: str = "") -> dict[str, Any]:
    """The payload for a checked request whose graph ``make_graph(convention, data_format)``
    builds: a spec's or code's ``text`` here, a dropped file's header in _drop.py."""
    convention = _choice(request, "convention", CONVENTIONS)
    data_format = _choice(request, "data_format", DATA_FORMATS)
    fmt = _choice(request, "format", FORMATS)
    depth = _field(request, "depth", int) or 0
    if depth < 0:
        raise RequestError(400, f"'depth' must be a whole number ≥ 0, got {depth}")
    options = _options(request)
    memory_options, sizing = _checked_sizing(request, options)
    try:
        graph = make_graph(convention, data_format)
        report = _count(graph, sizing["lora"])
        sized = _sizing.estimates(report, memory_options, sizing)
        linking = _linking.linking(graph, report)
    except LearnableError as err:
        raise RequestError(422, str(err), *_place(err)) from None
    payload = {"report": report.to_dict(), "convention_text": CONVENTION_TEXT.get(report.convention, ""),
               "source": source, "title": _catalog.title(report, text, source), **_figures(report), **linking}
    payload.update({key: value.to_dict() for key, value in sized.items() if value is not None})
    if fmt:
        payload["format"] = fmt
        show = Show(macs=bool(options.get("macs")), memory=sized["memory"], compute=sized["compute"], fit=sized["fit"])
        payload["text"] = render(report, fmt, explain=True, depth=depth, show=show)
    return payload


def _checked_sizing(request: dict, options: dict) -> tuple[dict | None, dict]:
    """``memory: true`` estimates one example as the source stores it (else fp32); an object
    sets batch, dtype, optimizer, context, kv_dtype, parallel; and lora, gpu, gpu_memory,
    tokens, mfu. Each field is checked: a bad one is a 400 naming it."""
    try:
        memory = _sizing.memory_options(options["memory"]) if "memory" in options else None
        return memory, _sizing.sizing(request)
    except _sizing.FieldError as err:
        raise RequestError(400, str(err)) from None


def _decode(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise RequestError(400, f"the request body is not JSON: {err}") from None
    except RecursionError:  # "[[[[...": 256 KiB of brackets is nested past Python's parser (fuzz_serve.py)
        raise RequestError(400, "the request body is JSON nested too deep to read") from None
    if not isinstance(request, dict):
        raise RequestError(400, 'the request body must be a JSON object such as {"spec": "..."}')
    unknown = sorted(set(request) - set(FIELDS) - set(OPTIONS))
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]!r}; the fields are {', '.join((*FIELDS, *OPTIONS))}")
    return request


def _field(request: dict, name: str, kind: type, *, required: bool = False) -> Any:
    value = request.get(name)
    if value is None:
        if required:
            raise RequestError(400, f"the request has no {name!r}: send the spec's text as a string")
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise RequestError(400, f"{name!r} must be a {'string' if kind is str else 'whole number'}, "
                                f"got {json.dumps(value)[:40]}")
    return value


def _choice(request: dict, name: str, choices: tuple[str, ...]) -> str | None:
    value = _field(request, name, str)
    if value is not None and value not in choices:
        raise RequestError(400, f"{name!r} must be {', '.join(choices)} or null, got {value!r}")
    return value


def _options(request: dict) -> dict[str, Any]:
    return {name: request[name] for name in OPTIONS if request.get(name) not in (None, False)}


def _code_options(request: dict) -> dict[str, Any] | None:
    """For model code: ``input`` ("3x32x32", "128:int", or several, comma-free, separated by
    spaces), ``model`` (a name or a call) and ``values`` ("num_classes=10; lang.n_words=50");
    None when the text is no code."""
    from ..code import looks_like_code
    from ..code.options import parse_shape, parse_values

    if not looks_like_code(_field(request, "spec", str, required=True)):
        return None
    options: dict[str, Any] = {}
    try:
        text = (_field(request, "input", str) or "").strip()
        if text:
            shapes = [parse_shape(part, "input") for part in text.split()]
            options["input_shape"] = shapes[0][0] if len(shapes) == 1 else [shape for shape, _ in shapes]
            options["integer_input"] = any(integer for _, integer in shapes)
        if (_field(request, "model", str) or "").strip():
            options["model"] = request["model"].strip()
        if (_field(request, "values", str) or "").strip():
            options["values"] = parse_values(request["values"])
    except LearnableError as err:
        raise RequestError(400, str(err)) from None
    return options


@gc_paused
def _count(graph, lora: dict[str, Any] | None = None):
    """The graph's report (with LoRA's adapters where asked), through the engine only."""
    from .. import engine

    report = engine.run(graph)
    if lora is None:
        return report
    from ..lora import apply

    return apply(report, lora)


@gc_paused
def _graph(text: str, convention: str | None, data_format: str | None, code: dict[str, Any] | None):
    """Text → graph, through the parsers only: never a file or an importer. Its nodes keep
    where they stand in the text (the page links its rows to the editor's lines)."""
    from dataclasses import replace

    if code is not None:
        from ..code import read_code

        graph = read_code(text, None, data_format=data_format, **code)
        return replace(graph, convention=convention) if convention else graph
    config = _hf_config(text)
    if config is not None:
        from ..importers.hf_config import native_config_graph

        graph = native_config_graph(config, "config.json")
        return replace(graph, convention=convention) if convention else graph
    stripped = text.strip()
    if stripped.startswith(zoo.PREFIX) and "\n" not in stripped:
        spec = parse_text(zoo.text(stripped), stripped, "yaml")
    else:
        spec = parse_text(text, None)
    # the spec as parsed: no importer claims it, no path is looked up (api.count's last step)
    return build_graph(spec, data_format, convention)


def _hf_config(text: str) -> dict[str, Any] | None:
    """A Hugging Face config.json's object (``model_type`` or ``architectures`` at its top, and
    no ``layers``: a spec's JSON has those), else None."""
    if not text.lstrip().startswith("{"):
        return None
    from ..importers.hf_config import is_hf_config

    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) and is_hf_config(value) and "layers" not in value else None


def _source_kind(text: str, code: dict[str, Any] | None) -> str:
    return "code" if code is not None else "config" if _hf_config(text) is not None else "spec"


def _place(err: LearnableError) -> tuple[int | None, int | None]:
    """The line (and column) an error names: its location, else "line N" in its text."""
    location = getattr(err, "location", None)
    if location is not None and location.line is not None:
        return location.line, location.column
    match = _LINE.search(str(err))
    return (int(match[1]), int(match[2]) if match[2] else None) if match else (None, None)


def _figures(report) -> dict[str, Any]:
    """The chart and the diagram as SVG (drawn by the HTML report's renderer), unless the
    network is too large for a browser to draw them usefully."""
    if len(report.layers) > MAX_FIGURE_LAYERS:
        return {"chart": None, "diagram": None,
                "figures_note": f"{len(report.layers):,} layers are too many to draw (the limit is "
                                f"{MAX_FIGURE_LAYERS:,}); the table lists them all"}
    return {"chart": _svg(html_render.chart_svg(report)), "diagram": _svg(html_render.diagram_svg(report))}


def _svg(figure: str) -> str | None:
    match = _SVG.search(figure)
    return match[0] if match else None


# --- starting points ---------------------------------------------------------------------

def zoo_list() -> list[dict[str, Any]]:
    """GET /api/zoo: each zoo model's name, title, description, source, parameter count,
    group (CNNs or transformers) and spec text (_catalog.py; counted once, then kept)."""
    return list(_catalog.zoo_entries())


def examples_list() -> list[dict[str, Any]]:
    """GET /api/examples: the spec files in the repository's examples/ folder (shipped in
    the wheel as learnable/examples), as zoo_list describes its models."""
    return list(_catalog.example_entries())
