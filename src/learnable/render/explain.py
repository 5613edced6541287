"""Renderers for ``learnable explain TYPE``: an :class:`~learnable.explain.Explanation` as
terminal text (rich; plain when piped), Markdown or JSON. They only lay out its data."""

from __future__ import annotations

import json
from typing import IO

from .._text import json_output, shape_text, visible_output, with_article
from ..explain import ConventionCount, Explanation
from ..rules import KERAS, PYTORCH

FRAMEWORK = {KERAS: "Keras", PYTORCH: "PyTorch"}
TENSOR_HEADERS = ("Convention", "Tensor", "Symbols", "Shape", "Size", "Kind")


# ---- the pieces every format shows --------------------------------------------------------


def heading(e: Explanation) -> str:
    """``Conv2D: a Keras layer (family conv); PyTorch's counterpart is Conv2d``."""
    own = FRAMEWORK[e.framework]
    text = f"{e.name}: {with_article(own)} layer (family {e.family})"
    if e.counterpart:
        other = FRAMEWORK[PYTORCH if e.framework == KERAS else KERAS]
        text += f"; {other}'s counterpart is {e.counterpart}"
    return text + (f"; also spelt {', '.join(e.aliases)}" if e.aliases else "")


def example_lines(e: Explanation) -> list[str]:
    x = e.example
    if x is None:
        return [f"No worked example: {e.name} {e.refusal}."]
    given = ", ".join(shape_text(s) for s in x.input_shapes) or "no input"
    lines = [f"{x.call} on {given} → {shape_text(x.output_shape)}"
             + (" (channels first)" if x.data_format == "channels_first" else "")]
    own = e.own
    lines.append(f"params ({FRAMEWORK[e.framework]}): {own.arithmetic}")
    if own.buffers:
        lines.append(f"buffers: {own.buffers_arithmetic}")
    if x.shape_arithmetic:
        lines.append(f"shape: {x.shape_arithmetic}")
    if x.macs_arithmetic:
        lines.append(f"MACs (one example): {x.macs_arithmetic}")
    return lines


def summary(count: ConventionCount) -> str:
    """``Keras: 256 params (128 trainable, 128 non-trainable) = 16 + 16 + 16 + 16``."""
    text = f"{FRAMEWORK[count.convention]}: {count.params:,} params"
    if count.params:
        text += f" ({count.trainable:,} trainable, {count.non_trainable:,} non-trainable)"
        text += "" if count.arithmetic == f"{count.params:,}" else f" = {count.arithmetic.rsplit(' = ', 1)[0]}"
    if count.buffers:
        text += f"; {count.buffers:,} buffers (not params) = {count.buffers_arithmetic.rsplit(' = ', 1)[0]}"
    return text


def notes(e: Explanation) -> list[str]:
    found = [c.note for c in e.counts if c.note]
    return list(dict.fromkeys(found))  # the same note from both conventions once


def tensor_rows(e: Explanation) -> list[list[str]]:
    rows = []
    for count in e.counts:
        label = FRAMEWORK[count.convention]
        for w in count.weights or ():
            rows.append([label, w.name, w.symbols, shape_text(w.shape), f"{w.size:,}", w.kind])
            label = ""
        if not count.weights:
            rows.append([label, "(none)", "", "", "0", ""])
    return rows


def arg_rows(e: Explanation) -> list[list[str]]:
    return [[a.name, "required" if a.default is None else a.default, a.doc] for a in e.args]


# ---- formats ------------------------------------------------------------------------------


def build_renderable(e: Explanation):
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    def table(headers: tuple[str, ...], rows: list[list[str]], numeric: tuple[str, ...] = ()) -> Table:
        t = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        for h in headers:
            t.add_column(h, justify="right" if h in numeric else "left", no_wrap=True)
        for row in rows:
            t.add_row(*(Text(cell) for cell in row))
        return t

    parts: list = [Text(heading(e)), Text(e.doc), Text("")]
    if e.args:
        with_docs = any(a.doc for a in e.args)
        headers = ("Argument", "Default", "Doc") if with_docs else ("Argument", "Default")
        parts += [Text("Arguments, in signature order:"),
                  table(headers, [r[:len(headers)] for r in arg_rows(e)]), Text("")]
    else:
        parts += [Text("Arguments: none."), Text("")]
    if e.example is not None:
        parts.append(Text(f"Parameters ({FRAMEWORK[e.framework]}): {e.formula}"))
        parts += [Text("Output shape: " + line) if i == 0 else Text("              " + line)
                  for i, line in enumerate(e.shape_formula or ("as in the worked example",))]
        if e.macs_formula:
            parts.append(Text(f"MACs: {e.macs_formula}"))
        parts += [Text(""), Text("Worked example:")] + [Text("  " + line) for line in example_lines(e)]
        parts += [Text(""), Text("What each convention counts (the worked example):"),
                  table(TENSOR_HEADERS, tensor_rows(e), ("Size",))]
        parts += [Text(summary(c)) for c in e.counts] + [Text("Note: " + n) for n in notes(e)]
    else:
        parts += [Text(line) for line in example_lines(e)]
    return Group(*parts)


@visible_output
def render_text(e: Explanation) -> str:
    """Plain text at its natural width: stable in files, pipes and tests."""
    from .table import plain_text

    return plain_text(build_renderable(e))


def print_explanation(e: Explanation, *, file: IO[str] | None = None) -> None:
    """To a terminal with rich (its width); to a pipe as plain text."""
    from rich.console import Console

    console = Console(file=file, highlight=False)
    if console.is_terminal:
        console.print(build_renderable(e))
    else:
        console.file.write(render_text(e))


def _md_table(headers: tuple[str, ...], rows: list[list[str]], numeric: tuple[str, ...] = ()) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if h in numeric else "---" for h in headers) + "|"]
    return lines + ["| " + " | ".join(c.replace("|", "\\|") or " " for c in row) + " |" for row in rows]


@visible_output
def render_markdown(e: Explanation) -> str:
    lines = [f"### {e.name}", "", heading(e) + ".", "", e.doc, ""]
    if e.args:
        lines += ["**Arguments**, in signature order:", "",
                  *_md_table(("Argument", "Default", "Doc"), [[f"`{n}`", f"`{d}`" if d != "required" else d, doc]
                                                              for n, d, doc in arg_rows(e)]), ""]
    if e.example is None:
        return "\n".join([*lines, *example_lines(e)]) + "\n"
    lines += [f"**Parameters** ({FRAMEWORK[e.framework]}): `{e.formula}`", ""]
    if e.shape_formula:
        lines += ["**Output shape**:", "", *(f"- `{line}`" for line in e.shape_formula), ""]
    if e.macs_formula:
        lines += [f"**MACs** (one example): `{e.macs_formula}`", ""]
    first, *rest = example_lines(e)
    lines += [f"**Worked example**: `{first}`", "", *(f"- {line}" for line in rest), ""]
    lines += ["**What each convention counts** (the worked example):", "",
              *_md_table(TENSOR_HEADERS, tensor_rows(e), ("Size",)), ""]
    lines += [f"{summary(c)}  " for c in e.counts] + [f"Note: {n}  " for n in notes(e)]
    return "\n".join(lines).rstrip() + "\n"


@json_output
def render_json(e: Explanation) -> str:
    return json.dumps(e.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render_types(width: int = 80) -> str:
    """``learnable explain`` without a type: every layer type, by family, each family's
    Keras types then PyTorch's, wrapped to ``width`` columns."""
    import textwrap

    from ..rules._registry import all_rules

    families: dict[str, dict[str, list[str]]] = {}
    for rule in all_rules():
        names = families.setdefault(rule.family, {KERAS: [], PYTORCH: []})[rule.framework]
        if rule.name not in names:
            names.append(rule.name)
    lines = ["Layer types by family (`learnable explain TYPE` for one):", ""]
    for family in sorted(families):
        lines.append(f"{family}:")
        for framework, names in families[family].items():
            if names:
                label = f"  {FRAMEWORK[framework]}: "
                lines.extend(textwrap.wrap(", ".join(names), max(width, 40), initial_indent=label,
                                           subsequent_indent=" " * len(label), break_on_hyphens=False))
    return "\n".join(lines) + "\n"
