"""Normalization, embedding and PReLU: tables, framework differentials, both conventions.

Expected values are hand arithmetic (tables, after CONVENTIONS.md §1) or the frameworks
themselves (differential tests and the seeded sweep: a Keras layer built on a keras.Input,
a torch module run on zeros). No expected number is read from learnable's output.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import assert_formulas_hold, evaluate_formula, run_cli

import learnable

os.environ["KERAS_BACKEND"] = "torch"


def row(source: str, convention: str | None = None, data_format: str | None = None):
    """The last layer's row of a compact-form network."""
    return learnable.count(source, convention=convention, data_format=data_format).layers[-1]


# ---- (1) per-layer tables: hand arithmetic -------------------------------------------------

C = 64
# (network, convention, output shape, params, trainable, non_trainable, buffers)
ROWS = [
    # BatchNormalization: gamma, beta trainable; moving_mean, moving_variance non-trainable
    ("Input(32, 32, 64) | BatchNormalization()", "keras", (32, 32, 64), 4 * C, 2 * C, 2 * C, 0),
    ("Input(32, 32, 64) | BatchNormalization(center=False)", "keras", (32, 32, 64), 3 * C, C, 2 * C, 0),
    ("Input(32, 32, 64) | BatchNormalization(center=False, scale=False)", "keras", (32, 32, 64), 2 * C, 0, 2 * C, 0),
    ("Input(64, 32, 32) | BatchNormalization(axis=1)", "keras", (64, 32, 32), 4 * C, 2 * C, 2 * C, 0),
    ("Input(32, 32, 64) | BatchNormalization(renorm=True)", "keras", (32, 32, 64), 7 * C, 2 * C, 5 * C, 0),
    ("Input(16) | BatchNormalization()", "keras", (16,), 4 * 16, 2 * 16, 2 * 16, 0),
    # ... and as PyTorch keeps them: weight, bias parameters; running stats buffers (+1 counter)
    ("Input(32, 32, 64) | BatchNormalization()", "pytorch", (32, 32, 64), 2 * C, 2 * C, 0, 2 * C + 1),
    ("Input(32, 32, 64) | BatchNormalization(center=False)", "pytorch", (32, 32, 64), C, C, 0, 2 * C + 1),
    ("Input(64, 32, 32) | nn.BatchNorm2d(64)", "pytorch", (64, 32, 32), 2 * C, 2 * C, 0, 2 * C + 1),
    ("Input(64, 32, 32) | nn.BatchNorm2d(64, affine=False)", "pytorch", (64, 32, 32), 0, 0, 0, 2 * C + 1),
    ("Input(64, 32, 32) | nn.BatchNorm2d(64, track_running_stats=False)", "pytorch", (64, 32, 32), 2 * C, 2 * C, 0, 0),
    ("Input(64, 32, 32) | nn.BatchNorm2d(64, bias=False)", "pytorch", (64, 32, 32), C, C, 0, 2 * C + 1),
    ("Input(64, 32, 32) | nn.BatchNorm2d(64)", "keras", (64, 32, 32), 4 * C, 2 * C, 2 * C, 0),
    ("Input(10) | nn.BatchNorm1d(10)", "pytorch", (10,), 2 * 10, 2 * 10, 0, 2 * 10 + 1),
    ("Input(10, 7) | nn.BatchNorm1d(10)", "pytorch", (10, 7), 2 * 10, 2 * 10, 0, 2 * 10 + 1),
    ("Input(10, 4, 4, 4) | nn.BatchNorm3d(10)", "pytorch", (10, 4, 4, 4), 2 * 10, 2 * 10, 0, 2 * 10 + 1),
    # InstanceNorm: affine=False, track_running_stats=False by default
    ("Input(10, 8, 8) | nn.InstanceNorm2d(10)", "pytorch", (10, 8, 8), 0, 0, 0, 0),
    ("Input(10, 8, 8) | nn.InstanceNorm2d(10, affine=True, track_running_stats=True)", "pytorch", (10, 8, 8),
     2 * 10, 2 * 10, 0, 2 * 10 + 1),
    ("Input(10, 8, 8) | nn.InstanceNorm2d(10, affine=True)", "keras", (10, 8, 8), 2 * 10, 2 * 10, 0, 0),
    # LayerNormalization / LayerNorm: 2 × the normalized size
    ("Input(10, 512) | LayerNormalization()", "keras", (10, 512), 2 * 512, 2 * 512, 0, 0),
    ("Input(10, 512) | LayerNormalization(center=False)", "keras", (10, 512), 512, 512, 0, 0),
    ("Input(10, 512) | LayerNormalization(axis=[-2, -1])", "keras", (10, 512), 2 * 10 * 512, 2 * 10 * 512, 0, 0),
    ("Input(8, 8, 32) | LayerNormalization()", "keras", (8, 8, 32), 2 * 32, 2 * 32, 0, 0),
    ("Input(10, 512) | nn.LayerNorm(512)", "pytorch", (10, 512), 2 * 512, 2 * 512, 0, 0),
    ("Input(10, 512) | nn.LayerNorm(512, bias=False)", "pytorch", (10, 512), 512, 512, 0, 0),
    ("Input(10, 512) | nn.LayerNorm(512, elementwise_affine=False)", "pytorch", (10, 512), 0, 0, 0, 0),
    ("Input(10, 512) | nn.LayerNorm([10, 512])", "pytorch", (10, 512), 2 * 10 * 512, 2 * 10 * 512, 0, 0),
    # RMSNormalization / RMSNorm: a scale only
    ("Input(512) | RMSNormalization()", "keras", (512,), 512, 512, 0, 0),
    ("Input(10, 512) | nn.RMSNorm(512)", "pytorch", (10, 512), 512, 512, 0, 0),
    # GroupNormalization / GroupNorm: 2C whatever the groups
    ("Input(10, 64) | GroupNormalization(8)", "keras", (10, 64), 2 * C, 2 * C, 0, 0),
    ("Input(10, 64) | GroupNormalization(groups=-1, center=False)", "keras", (10, 64), C, C, 0, 0),
    ("Input(64, 10) | nn.GroupNorm(8, 64)", "pytorch", (64, 10), 2 * C, 2 * C, 0, 0),
    ("Input(64, 10) | nn.GroupNorm(8, 64, affine=False)", "pytorch", (64, 10), 0, 0, 0, 0),
    ("Input(10, 64) | UnitNormalization()", "keras", (10, 64), 0, 0, 0, 0),
    # Embedding: rows × width, the output adds a last axis
    ("Input(20) | Embedding(10000, 128)", "keras", (20, 128), 10_000 * 128, 10_000 * 128, 0, 0),
    ("Input(20) | Embedding(10000, 128, mask_zero=True)", "keras", (20, 128), 10_000 * 128, 10_000 * 128, 0, 0),
    ("Input(20, 3) | Embedding(10000, 128)", "keras", (20, 3, 128), 10_000 * 128, 10_000 * 128, 0, 0),
    ("Input(20) | nn.Embedding(10000, 128, padding_idx=0)", "pytorch", (20, 128), 10_000 * 128, 10_000 * 128, 0, 0),
    ("Input(20) | nn.EmbeddingBag(10000, 128)", "pytorch", (128,), 10_000 * 128, 10_000 * 128, 0, 0),
    # PReLU: Keras alpha like the input, 1 on shared axes; torch one slope or one per channel
    ("Input(32, 32, 16) | PReLU()", "keras", (32, 32, 16), 32 * 32 * 16, 32 * 32 * 16, 0, 0),
    ("Input(32, 32, 16) | PReLU(shared_axes=[1, 2])", "keras", (32, 32, 16), 16, 16, 0, 0),
    ("Input(16, 32, 32) | nn.PReLU()", "pytorch", (16, 32, 32), 1, 1, 0, 0),
    ("Input(16, 32, 32) | nn.PReLU(16)", "pytorch", (16, 32, 32), 16, 16, 0, 0),
    # LocalResponseNorm (AlexNet): no weights in either framework, the input's shape
    ("Input(96, 55, 55) | nn.LocalResponseNorm(5)", "pytorch", (96, 55, 55), 0, 0, 0, 0),
    ("Input(96, 55, 55) | nn.LocalResponseNorm(5)", "keras", (96, 55, 55), 0, 0, 0, 0),
    ("Input(27, 27, 256) | LocalResponseNormalization(2)", "keras", (27, 27, 256), 0, 0, 0, 0),
]


@pytest.mark.parametrize("source, convention, shape, params, trainable, frozen, buffers", ROWS,
                         ids=[f"{r[0]} [{r[1]}]" for r in ROWS])
def test_rows(source, convention, shape, params, trainable, frozen, buffers):
    r = row(source, convention)
    got = (r.output_shape, r.params, r.trainable, r.non_trainable, r.buffers)
    assert got == (shape, params, trainable, frozen, buffers)
    assert_formulas_hold(r)
    assert evaluate_formula(r.buffers_formula) == buffers if buffers else r.buffers_formula == ""


def names(r) -> list[tuple[str, tuple[int, ...], bool]]:
    return [(w.name, w.shape, w.buffer) for w in r.weights]


def test_batch_norm_lists_each_frameworks_tensors():
    source = "Input(32, 32, 64) | BatchNormalization()"
    assert names(row(source, "keras")) == [
        ("gamma", (C,), False), ("beta", (C,), False), ("moving_mean", (C,), False), ("moving_variance", (C,), False)]
    assert names(row(source, "pytorch")) == [
        ("weight", (C,), False), ("bias", (C,), False), ("running_mean", (C,), True), ("running_var", (C,), True),
        ("num_batches_tracked", (), True)]
    for convention in ("keras", "pytorch"):
        assert "buffers" in row(source, convention).note and "non-trainable" in row(source, convention).note


def test_layers_without_an_exact_equivalent_say_so_and_count_as_their_own_framework():
    for source in ("Input(32, 32, 16) | PReLU()", "Input(8, 4) | BatchNormalization(renorm=True)",
                   "Input(8, 4) | BatchNormalization(scale=False)", "Input(10, 512) | LayerNormalization(axis=1)",
                   "Input(4, 10, 512) | LayerNormalization(axis=[1, 3])",
                   "Input(10, 64) | GroupNormalization(8, scale=False)",
                   "Input(20) | Embedding(100, 8, 'uniform', None, None, False, None, 4)"):
        keras, torch = row(source, "keras"), row(source, "pytorch")
        assert "no exact equivalent" in torch.note and keras.note == "", source
        assert names(torch) == names(keras) and torch.params == keras.params, source
    for source in ("Input(8) | nn.EmbeddingBag(10, 3)", "Input(4, 8) | nn.RMSNorm(8, elementwise_affine=False)",
                   "Input(4, 8) | nn.BatchNorm1d(4, track_running_stats=False)"):
        keras, torch = row(source, "keras"), row(source, "pytorch")
        assert "no exact equivalent" in keras.note, source
        assert (keras.params, keras.buffers) == (torch.params, torch.buffers), source
    assert "GroupNormalization(groups=-1" in row("Input(4, 8) | nn.InstanceNorm1d(4)", "keras").note


def test_prelu_maps_to_torch_only_as_one_slope_or_one_per_channel():
    assert names(row("Input(32, 32, 16) | PReLU(shared_axes=[1, 2])", "pytorch")) == [("weight", (16,), False)]
    assert names(row("Input(16, 32, 32) | PReLU(shared_axes=[2, 3])", "pytorch", "channels_first")) == [
        ("weight", (16,), False)]
    assert names(row("Input(32, 32, 16) | PReLU(shared_axes=[1, 2, 3])", "pytorch")) == [("weight", (1,), False)]
    assert names(row("Input(16, 32, 32) | nn.PReLU(16)", "keras")) == [("alpha", (16, 1, 1), False)]
    assert names(row("Input(16, 32, 32) | nn.PReLU()", "keras")) == [("alpha", (1, 1, 1), False)]


def test_layer_normalization_sorts_its_axes_as_keras_does():
    # Keras sorts the list as written, negative values first: [-1, 1] on (10, 512) → (512, 10).
    assert names(row("Input(10, 512) | LayerNormalization(axis=[1, -1])"))[:1] == [("gamma", (512, 10), False)]
    assert names(row("Input(10, 512) | LayerNormalization(axis=[2, 1])"))[:1] == [("gamma", (10, 512), False)]


def test_params_do_not_depend_on_spatial_size():
    rng = random.Random(7)
    for _ in range(20):
        h, w, c = rng.randint(2, 40), rng.randint(2, 40), rng.choice([4, 8, 16])
        for layer, expected in (("BatchNormalization()", 4 * c), ("GroupNormalization(4)", 2 * c),
                                ("LayerNormalization()", 2 * c), ("PReLU(shared_axes=[1, 2])", c)):
            assert row(f"Input({h}, {w}, {c}) | {layer}").params == expected


def test_local_response_norm_macs_are_the_window_sum_of_squares_and_the_scale():
    # AlexNet's first LRN: size 5 on 96×55×55; per value 5 squares summed, then 1 multiply
    assert row("Input(96, 55, 55) | nn.LocalResponseNorm(5)").macs == 96 * 55 * 55 * (5 + 1)
    # TensorFlow's depth_radius r is a window of 2r + 1 channels
    assert row("Input(27, 27, 256) | LocalResponseNormalization(depth_radius=2)").macs == 27 * 27 * 256 * (2 * 2 + 1 + 1)
    assert row("Input(None, 8) | nn.LocalResponseNorm(3)").macs is None  # unknown, not zero
    # depth_radius 0 is a window of the channel itself (TensorFlow allows it): 1 square, then 1 multiply
    assert row("Input(55, 55, 96) | LocalResponseNormalization(depth_radius=0)").macs == 55 * 55 * 96 * (1 + 1)


@pytest.mark.parametrize("layer, problem", [
    # a negative radius once gave a window of 2·(−3) + 1 = −5 channels and negative MACs
    ("LocalResponseNormalization(depth_radius=-3)", "argument 'depth_radius' must be an integer ≥ 0, got -3"),
    ("LocalResponseNormalization(-1)", "argument 'depth_radius' must be an integer ≥ 0, got -1"),
    ("nn.LocalResponseNorm(0)", "argument 'size' must be a positive integer, got 0"),
    ("nn.LocalResponseNorm(-2)", "argument 'size' must be a positive integer, got -2"),
])
def test_a_local_response_window_of_no_channels_is_refused_in_one_line(layer, problem):
    result = run_cli("count", f"Input(55, 55, 96) | {layer}", "--macs")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "(layer 2, line 1, column 21)" in result.stderr  # where the layer begins
    assert layer.split("(")[0].removeprefix("nn.") in result.stderr and problem in result.stderr


BAD = [
    ("Input(8) | nn.LocalResponseNorm(5)", "expects an input of channels and at least one more axis"),
    ("Input(8, 8) | nn.LocalResponseNorm(0)", "size"),
    ("Input(8, 64) | GroupNormalization(6)", "groups=6 must divide its 64 channels"),
    ("Input(8, 64) | GroupNormalization(128)", "groups=128 must divide"),
    ("Input(8) | BatchNormalization(axis=0)", "batch axis"),
    ("Input(8) | BatchNormalization(axis=2)", "out of range"),
    ("Input(None, 8) | BatchNormalization(axis=1)", "unknown"),
    ("Input(8, 4) | LayerNormalization(axis=[1, -2])", "same axis twice"),
    ("Input(8, 4) | PReLU(shared_axes=0)", "from 1 to 2"),
    ("Input(None, 4) | PReLU()", "share that axis"),
    ("Input(5, 8, 8) | nn.BatchNorm2d(4)", "num_features=4 but its input (5, 8, 8) has 5 channels"),
    ("Input(5, 8) | nn.BatchNorm2d(5)", "expects a 3-D input (channels, height, width"),
    ("Input(5, 8, 8, 8) | nn.BatchNorm1d(5)", "expects a 1-D or 2-D input"),
    ("Input(4, 8) | nn.LayerNorm(4)", "must be the last dimensions"),
    ("Input(4, 8) | nn.GroupNorm(3, 6)", "num_groups=3 must divide its 4 channels"),
    ("Input(3, 8) | nn.PReLU(8)", "num_parameters=8 but its input (3, 8) has 3 channels"),
    ("Input(8) | nn.Embedding(10, 3, padding_idx=10)", "padding_idx=10"),
    ("Input(8, 2) | nn.EmbeddingBag(10, 3)", "1-D input"),
    ("Input(8) | LayerNormalization(axis=[])", "at least one axis"),
]


@pytest.mark.parametrize("source, message", BAD, ids=[b[0] for b in BAD])
def test_bad_layers_raise_a_learnable_error(source, message):
    with pytest.raises(learnable.LearnableError, match=None) as caught:
        learnable.count(source)
    assert message in str(caught.value)


def test_channels_last_torch_layers_get_a_hint():
    with pytest.raises(learnable.LearnableError, match="channels-first"):
        learnable.count("Input(8, 8, 5) | Conv2D(5, 1) | nn.BatchNorm2d(8)")


# ---- (3) both conventions side by side -----------------------------------------------------


def test_compare_conventions_marks_batch_norm_and_explains_prelu():
    network = ("Input(16, 16, 3) | Conv2D(8, 3, name='conv') | BatchNormalization(name='bn') | PReLU(name='act') "
               "| PReLU(shared_axes=[1, 2], name='act_c') | Flatten(name='flat') | Dense(10, name='out')")
    pairs = {pair.keras.name: pair for pair in learnable.compare_conventions(network).rows}
    assert [name for name, pair in pairs.items() if pair.differs] == ["bn"]
    assert pairs["bn"].note and "buffers" in pairs["bn"].note
    bn = pairs["bn"]
    assert (bn.keras.params, bn.keras.non_trainable) == (4 * 8, 2 * 8)
    assert (bn.pytorch.params, bn.pytorch.buffers) == (2 * 8, 2 * 8 + 1)
    # A per-element alpha has no torch module; it counts the same, and the PyTorch row says why.
    assert "no exact equivalent" in pairs["act"].pytorch.note
    assert pairs["act"].keras.params == pairs["act"].pytorch.params == 14 * 14 * 8
    assert not any(pairs[n].differs for n in ("conv", "act", "act_c", "flat", "out"))


# ---- (2) differential tests: the frameworks are the oracle --------------------------------


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@dataclass
class Case:
    """One layer, counted by learnable in both conventions and built in each framework that
    has an exact equivalent (None: no equivalent, so the row must say so)."""

    spec: str  # the layer call in the compact form
    shape: tuple[int, ...]
    data_format: str = "channels_last"
    keras: Callable[[Any], Any] | None = None  # keras module → layer
    torch: Callable[[Any], Any] | None = None  # torch module → nn.Module
    move: bool = False  # the torch module reads channels first from a channels-last example
    ids: bool = False  # integer ids (embeddings)

    def __str__(self) -> str:
        return f"Input{self.shape} | {self.spec} [{self.data_format}]"


def call(name: str, args: tuple = (), kwargs: dict | None = None) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    return f"{name}({', '.join(parts)})"


def check_case(case: Case, keras_mod: Any, torch_mod: Any) -> None:
    from frameworks import assert_row_matches_keras, assert_row_matches_torch

    source = f"Input{case.shape} | {case.spec}"
    rows = {c: row(source, c, case.data_format) for c in ("keras", "pytorch")}
    for convention, build in (("keras", case.keras), ("pytorch", case.torch)):
        if build is None:  # no equivalent: say so, and count as the other framework does
            other = rows["pytorch" if convention == "keras" else "keras"]
            assert "no exact equivalent" in rows[convention].note, f"{case}: {convention} note"
            assert (rows[convention].params, rows[convention].buffers) == (other.params, other.buffers), str(case)
        elif convention == "keras":
            layer = build(keras_mod)
            layer(keras_mod.Input(case.shape, dtype="int32" if case.ids else "float32"))
            assert_row_matches_keras(rows["keras"], layer, tuple(layer.output.shape[1:]))
        else:
            module, shape = run_torch(build(torch_mod.nn), case, torch_mod)
            assert_row_matches_torch(rows["pytorch"], module, shape)


def run_torch(module: Any, case: Case, torch_mod: Any) -> tuple[Any, tuple[int, ...]]:
    """Run on zeros (batch 2, eval mode); a channels-last example is moved to channels first
    and the output moved back."""
    x = torch_mod.zeros(2, *case.shape, dtype=torch_mod.long if case.ids else torch_mod.float32)
    if case.move:
        x = x.movedim(-1, 1)
    with torch_mod.no_grad():
        y = module.eval()(x)
    if case.move:
        y = y.movedim(1, -1)
    return module, tuple(y.shape[1:])


def test_helpers_detect_a_mismatch(keras, torch):
    bad = Case("BatchNormalization()", (8, 4), keras=lambda k: k.layers.BatchNormalization(center=False),
               torch=lambda nn: nn.BatchNorm1d(4, track_running_stats=False), move=True)
    with pytest.raises(AssertionError):
        check_case(Case(bad.spec, bad.shape, keras=bad.keras), keras, torch)
    with pytest.raises(AssertionError):
        check_case(Case(bad.spec, bad.shape, torch=bad.torch, move=True), keras, torch)


FIXED = [
    Case("BatchNormalization()", (32, 32, 64), keras=lambda k: k.layers.BatchNormalization(),
         torch=lambda nn: nn.BatchNorm2d(64), move=True),
    Case("nn.BatchNorm2d(64)", (64, 8, 8), "channels_first", keras=lambda k: k.layers.BatchNormalization(axis=1),
         torch=lambda nn: nn.BatchNorm2d(64)),
    Case("PReLU()", (32, 32, 16), keras=lambda k: k.layers.PReLU()),
    Case("PReLU(shared_axes=[1, 2])", (32, 32, 16), keras=lambda k: k.layers.PReLU(shared_axes=[1, 2]),
         torch=lambda nn: nn.PReLU(16), move=True),
    Case("Embedding(10000, 128)", (20,), keras=lambda k: k.layers.Embedding(10000, 128),
         torch=lambda nn: nn.Embedding(10000, 128), ids=True),
    Case("LayerNormalization(axis=[-2, -1])", (10, 512), keras=lambda k: k.layers.LayerNormalization(axis=[-2, -1]),
         torch=lambda nn: nn.LayerNorm([10, 512])),
    Case("LayerNormalization(axis=[1, -1])", (10, 512), keras=lambda k: k.layers.LayerNormalization(axis=[1, -1])),
    Case("RMSNormalization(axis=[2, 1])", (10, 512), keras=lambda k: k.layers.RMSNormalization(axis=[2, 1]),
         torch=lambda nn: nn.RMSNorm([10, 512])),
    Case("nn.InstanceNorm1d(4, affine=True, track_running_stats=True)", (4, 9), "channels_first",
         torch=lambda nn: nn.InstanceNorm1d(4, affine=True, track_running_stats=True)),
    Case("nn.EmbeddingBag(50, 6, mode='sum')", (7,), torch=lambda nn: nn.EmbeddingBag(50, 6, mode="sum"), ids=True),
    Case("Embedding(100, 8, 'uniform', None, None, False, None, 4)", (20,), ids=True,
         keras=lambda k: k.layers.Embedding(100, 8, lora_rank=4)),
    Case("nn.Embedding(50, 6, _freeze=True)", (7,), torch=lambda nn: nn.Embedding(50, 6, _freeze=True),
         keras=lambda k: k.layers.Embedding(50, 6, trainable=False), ids=True),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("case", FIXED, ids=str)
def test_against_the_frameworks(case, keras, torch):
    check_case(case, keras, torch)


@pytest.mark.frameworks
@pytest.mark.parametrize("shape, size", [((96, 55, 55), 5), ((16, 9), 3), ((4, 6, 5, 5), 7)])
def test_local_response_norm_against_torch(torch, shape, size):
    from frameworks import assert_row_matches_torch

    module = torch.nn.LocalResponseNorm(size)
    assert sum(p.numel() for p in module.parameters()) == 0 and not list(module.buffers())
    with torch.no_grad():
        out = tuple(module(torch.zeros(2, *shape)).shape[1:])
    assert_row_matches_torch(row(f"Input{shape} | nn.LocalResponseNorm({size})"), module, out)
    imported = learnable.count(module, input_shape=shape).layers[-1]  # the importer reads size, alpha, beta, k
    assert (imported.type, imported.output_shape, imported.params) == ("LocalResponseNorm", out, 0)
    assert imported.macs == math.prod(shape) * (size + 1)


# ---- the seeded sweep: random layers and options, both layouts ------------------------------


def _sizes(rng: random.Random, rank: int) -> list[int]:
    return [rng.randint(2, 6) for _ in range(rank)]


def _layout(rng: random.Random, channels: int, spatial: list[int]) -> tuple[tuple[int, ...], str]:
    """(example shape, data format): channels first or last, at random."""
    if not spatial or rng.random() < 0.5:
        return (channels, *spatial), "channels_first"
    return (*spatial, channels), "channels_last"


def _keras_batch_norm(rng: random.Random) -> Case:
    rank = rng.randint(1, 4)
    shape = tuple(_sizes(rng, rank))
    first = rank > 1 and rng.random() < 0.4
    kw = {"axis": 1 if first else rng.choice([-1, rank]), "center": rng.random() < 0.7, "scale": rng.random() < 0.7,
              "renorm": rng.random() < 0.15}
    c = shape[0 if first else -1]
    torch = None if kw["renorm"] or (kw["center"] and not kw["scale"]) else (
        lambda nn: getattr(nn, f"BatchNorm{max(rank - 1, 1)}d")(c, affine=kw["scale"], bias=kw["center"]))
    return Case(call("BatchNormalization", (), kw), shape, "channels_first" if first else "channels_last",
                lambda k: k.layers.BatchNormalization(**kw), torch, move=rank > 1 and not first)


def _keras_layer_norm(rng: random.Random, rms: bool) -> Case:
    rank = rng.randint(1, 3)
    shape = tuple(_sizes(rng, rank))
    # (axis, the torch normalized_shape it equals, or None: not the trailing axes in order)
    options = [(-1, shape[-1:]), ([rank], shape[-1:])]
    if rank > 1:
        options += [([-2, -1], shape[-2:]), ([rank - 1, rank], shape[-2:]), (1, None), ([1, -1], None)]
    axis, dims = rng.choice(options)
    kw = {"axis": axis} if rms else {"axis": axis, "center": rng.random() < 0.7, "scale": rng.random() < 0.7}
    if rms:
        return Case(call("RMSNormalization", (), kw), shape, keras=lambda k: k.layers.RMSNormalization(**kw),
                    torch=None if dims is None else (lambda nn: nn.RMSNorm(list(dims))))
    rms_scaling = rng.random() < 0.1
    torch = None if dims is None or rms_scaling or (kw["center"] and not kw["scale"]) else (
        lambda nn: nn.LayerNorm(list(dims), elementwise_affine=kw["scale"], bias=kw["center"]))
    if rms_scaling:
        kw["rms_scaling"] = True
    return Case(call("LayerNormalization", (), kw), shape, keras=lambda k: k.layers.LayerNormalization(**kw),
                torch=torch)


def _keras_group_norm(rng: random.Random) -> Case:
    c = rng.choice([2, 4, 6, 8, 12])
    shape, fmt = _layout(rng, c, _sizes(rng, rng.randint(0, 2)))
    groups = rng.choice([g for g in range(1, c + 1) if c % g == 0] + [-1])
    kw = {"groups": groups, "axis": 1 if fmt == "channels_first" else -1, "center": rng.random() < 0.7,
              "scale": rng.random() < 0.7}
    torch = None if kw["center"] and not kw["scale"] else (
        lambda nn: nn.GroupNorm(c if groups == -1 else groups, c, affine=kw["scale"], bias=kw["center"]))
    return Case(call("GroupNormalization", (), kw), shape, fmt, lambda k: k.layers.GroupNormalization(**kw), torch,
                move=fmt == "channels_last" and len(shape) > 1)


def _keras_misc(rng: random.Random, kind: str) -> Case:
    shape = tuple(_sizes(rng, rng.randint(1, 3)))
    if kind == "unit":
        axis = rng.choice([-1, list(range(1, len(shape) + 1))])
        return Case(call("UnitNormalization", (), {"axis": axis}), shape,
                    keras=lambda k: k.layers.UnitNormalization(axis=axis))
    rows, width, mask = rng.randint(2, 300), rng.randint(1, 40), rng.random() < 0.3
    return Case(call("Embedding", (rows, width), {"mask_zero": mask}), shape[:2], ids=True,
                keras=lambda k: k.layers.Embedding(rows, width, mask_zero=mask),
                torch=lambda nn: nn.Embedding(rows, width))


def _keras_prelu(rng: random.Random) -> Case:
    c = rng.choice([1, 2, 3, 5])
    shape, fmt = _layout(rng, c, _sizes(rng, rng.randint(0, 2)))
    rank, channel = len(shape), 0 if fmt == "channels_first" else len(shape) - 1
    shared = sorted(rng.sample(range(1, rank + 1), rng.randint(0, rank)))
    alpha = [1 if i + 1 in shared else d for i, d in enumerate(shape)]
    torch = None
    if all(d == 1 for d in alpha):
        torch = lambda nn: nn.PReLU()
    elif all(d == 1 for i, d in enumerate(alpha) if i != channel):
        torch = lambda nn: nn.PReLU(c)
    kw = {"shared_axes": shared} if shared else {}
    return Case(call("PReLU", (), kw), shape, fmt, lambda k: k.layers.PReLU(**kw), torch,
                move=fmt == "channels_last" and rank > 1)


def _torch_norm(rng: random.Random, kind: str) -> Case:
    n = rng.randint(1, 3)
    c = rng.choice([2, 3, 4, 8])
    spatial = _sizes(rng, rng.choice([0, 1]) if kind == "BatchNorm" and n == 1 else n)
    shape, fmt = _layout(rng, c, spatial)
    fit, track, bias = rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.7
    kw = {"affine": fit, "track_running_stats": track, "bias": bias}
    name = f"{kind}{n}d"
    axis = 1 if fmt == "channels_first" else -1
    keras = None
    if kind == "BatchNorm" and track:
        keras = lambda k: k.layers.BatchNormalization(axis=axis, center=fit and bias, scale=fit)
    elif kind == "InstanceNorm" and not track:
        keras = lambda k: k.layers.GroupNormalization(-1, axis=axis, center=fit and bias, scale=fit)
    return Case(call(f"nn.{name}", (c,), kw), shape, fmt, keras, lambda nn: getattr(nn, name)(c, **kw),
                move=fmt == "channels_last" and len(shape) > 1)


def _torch_group_norm(rng: random.Random) -> Case:
    c = rng.choice([2, 4, 6, 8, 12])
    shape, fmt = _layout(rng, c, _sizes(rng, rng.randint(0, 2)))
    g = rng.choice([g for g in range(1, c + 1) if c % g == 0])
    fit, bias = rng.random() < 0.7, rng.random() < 0.7
    axis = 1 if fmt == "channels_first" else -1
    return Case(call("nn.GroupNorm", (g, c), {"affine": fit, "bias": bias}), shape, fmt,
                lambda k: k.layers.GroupNormalization(g, axis=axis, center=fit and bias, scale=fit),
                lambda nn: nn.GroupNorm(g, c, affine=fit, bias=bias), move=fmt == "channels_last" and len(shape) > 1)


def _torch_layer_norm(rng: random.Random, rms: bool) -> Case:
    shape = tuple(_sizes(rng, rng.randint(1, 3)))
    k = rng.randint(1, len(shape))
    dims, fit, bias = list(shape[-k:]), rng.random() < 0.7, rng.random() < 0.7
    axis = list(range(len(shape) - k + 1, len(shape) + 1))
    if rms:
        return Case(call("nn.RMSNorm", (dims,), {"elementwise_affine": fit}), shape,
                    keras=(lambda k: k.layers.RMSNormalization(axis=axis)) if fit else None,
                    torch=lambda nn: nn.RMSNorm(dims, elementwise_affine=fit))
    return Case(call("nn.LayerNorm", (dims,), {"elementwise_affine": fit, "bias": bias}), shape,
                keras=lambda k: k.layers.LayerNormalization(axis=axis, center=fit and bias, scale=fit),
                torch=lambda nn: nn.LayerNorm(dims, elementwise_affine=fit, bias=bias))


def _torch_misc(rng: random.Random, kind: str) -> Case:
    rows, width = rng.randint(2, 300), rng.randint(1, 40)
    if kind == "bag":
        mode = rng.choice(["sum", "mean", "max"])
        return Case(call("nn.EmbeddingBag", (rows, width), {"mode": mode}), (rng.randint(1, 9),), ids=True,
                    torch=lambda nn: nn.EmbeddingBag(rows, width, mode=mode))
    if kind == "embedding":
        pad = rng.choice([None, 0, rows - 1, -1])
        return Case(call("nn.Embedding", (rows, width), {"padding_idx": pad}), tuple(_sizes(rng, rng.randint(1, 2))),
                    keras=lambda k: k.layers.Embedding(rows, width), torch=lambda nn: nn.Embedding(rows, width, pad),
                    ids=True)
    c = rng.choice([2, 3, 5])
    shape, fmt = _layout(rng, c, _sizes(rng, rng.randint(0, 2)))
    n, channel = rng.choice([1, c]), 0 if fmt == "channels_first" else len(shape) - 1
    shared = [i + 1 for i in range(len(shape)) if n == 1 or i != channel]
    return Case(call("nn.PReLU", (n,)), shape, fmt, lambda k: k.layers.PReLU(shared_axes=shared),
                lambda nn: nn.PReLU(n), move=fmt == "channels_last" and len(shape) > 1)


GENERATORS: dict[str, Callable[[random.Random], Case]] = {
    "BatchNormalization": _keras_batch_norm,
    "LayerNormalization": lambda rng: _keras_layer_norm(rng, rms=False),
    "RMSNormalization": lambda rng: _keras_layer_norm(rng, rms=True),
    "GroupNormalization": _keras_group_norm,
    "UnitNormalization": lambda rng: _keras_misc(rng, "unit"),
    "Embedding": lambda rng: _keras_misc(rng, "embedding"),
    "PReLU": _keras_prelu,
    "nn.BatchNorm": lambda rng: _torch_norm(rng, "BatchNorm"),
    "nn.InstanceNorm": lambda rng: _torch_norm(rng, "InstanceNorm"),
    "nn.GroupNorm": _torch_group_norm,
    "nn.LayerNorm": lambda rng: _torch_layer_norm(rng, rms=False),
    "nn.RMSNorm": lambda rng: _torch_layer_norm(rng, rms=True),
    "nn.Embedding": lambda rng: _torch_misc(rng, "embedding"),
    "nn.EmbeddingBag": lambda rng: _torch_misc(rng, "bag"),
    "nn.PReLU": lambda rng: _torch_misc(rng, "prelu"),
}


@pytest.mark.frameworks
@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
def test_seeded_sweep(keras, torch):
    rng = random.Random(2024)
    kinds = sorted(GENERATORS) * 11  # 165 configurations, every kind alike
    cases = [GENERATORS[kind](rng) for kind in kinds]
    assert {c.data_format for c in cases} == {"channels_first", "channels_last"}
    assert sum(c.keras is None for c in cases) > 10 and sum(c.torch is None for c in cases) > 10
    for case in cases:
        check_case(case, keras, torch)
