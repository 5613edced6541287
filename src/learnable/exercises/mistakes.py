"""The classic mistakes, as data: each is a change to the network (an argument, a layer, the
convention) under which the rules are run again. A wrong answer that equals the count of the
changed network is that mistake, named. Nothing here computes a count itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import LearnableError
from ..rules import KERAS, PYTORCH
from .counted import Counted, count_spec

_BIASED = {"Dense", "Conv2D", "SimpleRNN", "LSTM", "GRU", "MultiHeadAttention"}
_POOLS = {"MaxPooling2D", "AveragePooling2D"}


@dataclass(frozen=True)
class Mistake:
    name: str  # "bias left out"
    where: str  # the layer where it was made
    detail: str  # what was done instead
    counted: Counted  # the network counted with the mistake in it


def named_items(spec: dict[str, Any], names: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The spec's layers as (type, arguments), each named as the report names it."""
    items = []
    for item, name in zip(spec["layers"], names, strict=True):
        ((kind, args),) = item.items()
        items.append((kind, {**args, "name": name}))
    return items


def candidates(spec: dict[str, Any], right: Counted, layer: str | None) -> Iterator[Mistake]:
    """Every mistake that could bear on ``layer`` (None: the whole network), counted."""
    names = [r.name for r in right.report.layers[1:]]
    items = named_items(spec, names)
    upto = names.index(layer) + 1 if layer in names else len(items)
    for change in _changes(items, upto, right, layer):
        name, where, detail, altered, convention = change
        try:
            counted = count_spec({**spec, "input": altered[0], "layers": [{t: a} for t, a in altered[1]]},
                                 convention or right.convention)
        except LearnableError:  # the change made the network impossible: not this mistake
            continue
        yield Mistake(name, where, detail, counted)


def _changes(items: list, upto: int, right: Counted, layer: str | None) -> Iterator[tuple]:
    spec_input = list(right.report.layers[0].output_shape)
    def changed(i: int, kind: str, args: dict) -> tuple[list, list]:
        return spec_input, [*items[:i], (kind, args), *items[i + 1:]]
    for i, (kind, args) in enumerate(items[:upto]):
        name = args["name"]
        if kind in _BIASED and args.get("use_bias", True) and (layer is None or name == layer):
            yield "bias left out", name, "no bias", changed(i, kind, {**args, "use_bias": False}), None
        if args.get("padding") in ("same", "valid"):
            flip = "valid" if args["padding"] == "same" else "same"
            yield ("padding ignored", name, f"padding '{args['padding']}' read as '{flip}'",
                   changed(i, kind, {**args, "padding": flip}), None)
            if args["padding"] == "valid":
                for k in (args["kernel_size"] + 1, args["kernel_size"] - 1):
                    yield ("off-by-one in a shape", name, "n − k + 1 computed as n − k" if k > args["kernel_size"]
                           else "n − k + 1 computed as n − k + 2", changed(i, kind, {**args, "kernel_size": k}), None)
        if kind in _POOLS:
            channels = right.row(name).output_shape[-1]
            conv = {"filters": channels, "kernel_size": args["pool_size"], "strides": args["pool_size"], "name": name}
            yield ("pooling given parameters", name, "the pooling window counted as a convolution's kernel",
                   changed(i, "Conv2D", conv), None)
        if kind == "Flatten":
            yield ("flatten size wrong", name, "only the channels taken, not height × width × channels",
                   changed(i, "GlobalAveragePooling2D", {"name": name}), None)
    yield from _wrong_inputs(items, upto, spec_input, layer)
    other = PYTORCH if right.convention == KERAS else KERAS
    yield ("BatchNorm's moving statistics", layer or "the network",
           "moving mean and variance " + ("left out, as PyTorch counts them" if other == PYTORCH
                                          else "counted as parameters, as Keras counts them"), (spec_input, items), other)


def _wrong_inputs(items: list, upto: int, spec_input: list, layer: str | None) -> Iterator[tuple]:
    """The asked layer fed the channels of another layer: its producer's width changed."""
    if layer is None:
        return
    widths = {a.get("filters") or a.get("units") for _, a in items if a.get("filters") or a.get("units")}
    widths.add(spec_input[-1])
    producer = next((i for i in range(upto - 2, -1, -1) if "filters" in items[i][1] or "units" in items[i][1]), None)
    if producer is not None and "inputs" in items[upto - 1][1]:
        return  # a branch's layer: its input is named, not the layer before
    for width in sorted(widths):
        if producer is None:
            if width != spec_input[-1]:
                yield ("input channels of the wrong layer", layer, f"{width} input channels",
                       ([*spec_input[:-1], width], items), None)
            continue
        kind, args = items[producer]
        key = "filters" if "filters" in args else "units"
        if width != args[key]:
            altered = [*items[:producer], (kind, {**args, key: width}), *items[producer + 1:]]
            yield ("input channels of the wrong layer", layer, f"{width} input channels, not {args[key]}",
                   (spec_input, altered), None)
