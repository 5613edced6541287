"""A sheet of exercises: ``count`` networks of one level, drawn from ``random.Random(seed)``
(never the global generator), so the same level and seed give the same sheet."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from ..rules import CONVENTIONS
from .counted import count_spec
from .levels import DESCRIPTIONS, LEVELS, Network
from .questions import Question, ask

SCHEMA_VERSION = 1
MAX_COUNT = 100


@dataclass(frozen=True)
class Exercise:
    id: str
    spec: dict[str, Any]
    layers: tuple[str, ...]  # the network as the student reads it, one line a layer
    questions: tuple[Question, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "spec": self.spec, "layers": list(self.layers),
                "questions": [q.to_dict() for q in self.questions]}


@dataclass(frozen=True)
class Sheet:
    level: str
    seed: int
    exercises: tuple[Exercise, ...]

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for e in self.exercises for q in e.questions)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "kind": "learnable.exercises", "level": self.level,
                "description": DESCRIPTIONS[self.level], "seed": self.seed,
                "exercises": [e.to_dict() for e in self.exercises]}


def exercise(level: str, seed: int = 0, count: int = 10) -> Sheet:
    """``count`` exercises at ``level`` (levels.LEVELS), the same for the same seed."""
    if level not in LEVELS:
        raise SpecError(f"--level: no level {level!r}; the levels are {', '.join(LEVELS)}")
    if not 1 <= count <= MAX_COUNT:
        raise SpecError(f"--count: {count} exercises; give 1 to {MAX_COUNT}")
    rng = random.Random(f"{level}:{seed}")  # a str seed hashes the same in every process
    return Sheet(level, seed, tuple(_one(level, rng, i) for i in range(1, count + 1)))


def _one(level: str, rng: random.Random, number: int) -> Exercise:
    network = LEVELS[level](rng)
    spec = network.spec(f"exercise {number}")
    counted = {c: count_spec(spec, c) for c in CONVENTIONS}
    prefix = f"e{number}"
    questions = ask(network.asks, counted, rng, prefix, network.conventions)
    return Exercise(prefix, spec, tuple(describe(network, counted["keras"].report)), tuple(questions))


def describe(network: Network, report: Any) -> list[str]:
    """``conv2d: Conv2D(filters=2, kernel_size=3, padding='same')``: each layer by the name the
    report gives it (the name a student's table uses) and its call."""
    lines = [f"input: {' × '.join(str(d) for d in network.input)}"]
    for row, (kind, args) in zip(report.layers[1:], network.items, strict=True):
        shown = ", ".join(f"{k}={v!r}" for k, v in args.items() if k not in ("name", "inputs"))
        source = f" on {' and '.join(args['inputs'])}" if "inputs" in args else ""
        if kind == "MultiHeadAttention" and not source:  # called as Keras's self-attention: mha(x, x)
            source = " as self-attention (query = value = its input)"
        lines.append(f"{row.name}: {kind}({shown}){source}")
    return lines
