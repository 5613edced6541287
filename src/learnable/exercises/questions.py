"""The questions asked about one counted network, each with its expected answer and the
worked answer printed from the same expressions (answers.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from ..rules import KERAS, PYTORCH
from . import answers
from .counted import Counted

KINDS = ("params", "output_shape", "total", "macs", "no_params")
# "… have in Keras, as count_params() counts them?": one pair of brackets a sentence
_WHO = {KERAS: "in Keras, as count_params() counts them", PYTORCH: "in PyTorch, as parameters() counts them"}


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: str
    expected: Any  # int; a list of ints (a shape); a list of layer names (no_params)
    worked: tuple[str, ...]
    layer: str | None = None
    convention: str = KERAS

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "layer": self.layer, "convention": self.convention,
                "prompt": self.prompt, "expected": self.expected, "worked": list(self.worked)}


def ask(kinds: tuple[str, ...], counted: dict[str, Counted], rng: random.Random, prefix: str,
        conventions: bool) -> list[Question]:
    keras = counted[KERAS]
    asked: set[tuple[str, str | None]] = set()
    found = []
    for kind in kinds:
        layer = _pick(kind, keras, rng, asked)
        if layer is None and kind not in ("total", "no_params"):
            continue
        asked.add((kind, layer))
        found.append(_question(kind, layer, keras))
    if conventions:  # the layer whose count the conventions disagree on, asked in both
        layer = next(r.name for r in keras.report.layers if r.non_trainable)
        found += [_question("params", layer, counted[c]) for c in (KERAS, PYTORCH)
                  if c != KERAS or ("params", layer) not in asked]
    return [replace(q, id=f"{prefix}.q{i}") for i, q in enumerate(found, 1)]


def _pick(kind: str, keras: Counted, rng: random.Random, asked: set) -> str | None:
    layers = [r for r in keras.report.layers if r.type != "Input"]
    if kind == "params":
        pool = [r.name for r in layers if r.params]
    elif kind == "output_shape":
        pool = [r.name for r in layers if r.shape_formula or keras.args(r.name).get("padding") == "same"] \
            or [r.name for r in layers]
    elif kind == "macs":
        pool = [r.name for r in layers if r.macs and r.type in ("Dense", "Conv2D")]
    else:
        return None
    fresh = [name for name in pool if (kind, name) not in asked]
    return rng.choice(fresh) if fresh else None


def _question(kind: str, layer: str | None, c: Counted) -> Question:
    if kind == "total":
        expr, worked = answers.total_answer([(r.name, r.params) for r in c.report.layers])
        return Question("", kind, f"How many parameters does the whole network have {_WHO[c.convention]}?",
                        expr.value, tuple(worked), None, c.convention)
    if kind == "no_params":
        names = [r.name for r in c.report.layers if not r.params and r.type != "Input"]
        why = [f"{r.name} ({r.type}): no weights" for r in c.report.layers if r.name in names]
        return Question("", kind, "Which layers (other than the input) have no parameters?", names, tuple(why))
    row, inference = c.row(layer), c.inference(layer)
    if kind == "params":
        return Question("", kind, f"How many parameters does {layer} ({row.type}) have {_WHO[c.convention]}?",
                        row.params, tuple(answers.params_answer(inference, layer, row.type)), layer, c.convention)
    if kind == "output_shape":
        shape = list(row.output_shape)
        return Question("", kind, f"What is the output shape of {layer} ({row.type}), batch excluded?", shape,
                        tuple(answers.shape_answer(inference, c.args(layer), row.output_shape)), layer)
    return Question("", kind, f"How many multiply-accumulates (MACs) does {layer} ({row.type}) do per example?",
                    row.macs, tuple(answers.macs_answer(inference)), layer)
