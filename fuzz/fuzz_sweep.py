"""Coverage-guided fuzz target (atheris) for sweeps: the zoo's and the examples' specs, keys
made of their own layer names and arguments (and a few that are not), and the values fuzzed
as the text of ``--vary``; the variants are counted and rendered in every format.

    python fuzz/fuzz_sweep.py fuzz/corpus-sweep -max_total_time=600 -timeout=120

What is rendered is encoded to UTF-8, as the CLI writes it. A one-line LearnableError is
the right answer to bad input; anything else is a crash. A
timeout is not always one: ``mixed7.repeat=22222`` asks for a 600,000-layer network.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
ZOO = ("lenet5", "resnet18", "resnet50", "mobilenet_v2", "bert_base", "inception_v3")

with atheris.instrument_imports(include=["learnable"]):
    import learnable
    from learnable.cli._commands import _vary
    from learnable.errors import LearnableError
    from learnable.render.sweep import FORMATS, render_sweep
    from learnable.spec import load
    from learnable.spec.build import layer_positions
    from learnable.spec.vary import known_arguments

EXTRA_ARGUMENTS = ["repeat", "trainable", "input_shape", "no_such_argument"]


def _specs() -> list:
    sources = [*map(str, sorted((ROOT / "examples").glob("*.yaml"))), *(f"zoo:{name}" for name in ZOO)]
    specs = []
    for source in sources:
        try:
            spec = load(source)
            specs.append((spec, layer_positions(spec)))
        except LearnableError:  # an example that shows an error
            pass
    return specs


SPECS = _specs()


def sweep_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    spec, positions = SPECS[fdp.ConsumeIntInRange(0, len(SPECS) - 1)]
    names = list(positions)
    try:
        grid = {}
        for _ in range(fdp.ConsumeIntInRange(1, 2)):
            name = names[fdp.ConsumeIntInRange(0, len(names) - 1)]
            arguments = (known_arguments(spec.layers[positions[name]], spec) or []) + EXTRA_ARGUMENTS
            argument = arguments[fdp.ConsumeIntInRange(0, len(arguments) - 1)]
            # (lone surrogates too: a value that reaches a name must still encode as the CLI writes it)
            grid[f"{name}.{argument}"] = _vary(f"key={fdp.ConsumeUnicode(40)}")[1]
        variants = []
        for variant in learnable.sweep(spec, grid):
            variants.append(variant)
            if len(variants) == 9:
                break
        render_sweep(list(grid), variants, FORMATS[fdp.ConsumeIntInRange(0, len(FORMATS) - 1)]).encode("utf-8")
    except LearnableError as err:
        message = str(err)
        if not message.strip() or len(message.splitlines()) != 1:
            raise AssertionError(f"bad error message {message!r}") from None
        message.encode("utf-8")


if __name__ == "__main__":
    atheris.Setup(sys.argv, sweep_input)
    atheris.Fuzz()
