"""Every answer of 240 drawn exercises (40 per level) against Keras itself (KERAS_BACKEND=torch):
count_params, output shapes, the total, the layers without weights, and MACs as the output
size times the kernel's fan-in read from Keras's kernel shape; the PyTorch-convention
BatchNorm answers against torch.nn.BatchNorm2d's parameters()."""

from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "torch"

import math

import pytest

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

from learnable.exercises import LEVELS, exercise

pytestmark = pytest.mark.frameworks
MERGES = {"Add", "Concatenate"}


def _build(spec: dict, names: list[str]) -> dict:
    tensors = {"input": keras.Input(shape=tuple(spec["input"]))}
    previous, layers = tensors["input"], {}
    for item, name in zip(spec["layers"], names, strict=True):
        ((kind, args),) = item.items()
        args = dict(args)
        sources = args.pop("inputs", None)
        args["name"] = name
        layer = getattr(keras.layers, kind)(**args)
        x = [tensors[s] for s in sources] if sources else previous
        if sources and kind not in MERGES:
            x = x[0]
        previous = tensors[name] = layer(x, x) if kind == "MultiHeadAttention" else layer(x)
        layers[name] = layer
    return layers


def _answer(q, layers: dict):
    if q.kind == "total":
        return sum(layer.count_params() for layer in layers.values())
    if q.kind == "no_params":
        return [n for n, layer in layers.items() if layer.count_params() == 0]
    layer = layers[q.layer]
    if q.kind == "output_shape":
        return list(layer.output.shape[1:])
    if q.kind == "macs":
        return math.prod(layer.output.shape[1:]) * math.prod(layer.kernel.shape[:-1])
    if q.convention == "pytorch":  # the one PyTorch question: BatchNorm over the channels
        module = torch.nn.BatchNorm2d(layer.output.shape[-1])
        return sum(p.numel() for p in module.parameters())
    return layer.count_params()


@pytest.mark.parametrize("level", list(LEVELS))
def test_every_answer_agrees_with_keras(level: str) -> None:
    sheet = exercise(level, 2024, 40)
    for e in sheet.exercises:
        names = [line.split(":")[0] for line in e.layers[1:]]
        layers = _build(e.spec, names)
        for q in e.questions:
            assert q.expected == _answer(q, layers), (e.id, q.id, q.prompt, e.layers)
