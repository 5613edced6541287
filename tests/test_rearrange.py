"""einops's Rearrange: shapes written as arithmetic from the patterns, and checked against
einops itself on torch zeros (batch 2); a pattern einops refuses, learnable refuses too."""

from __future__ import annotations

import pytest

import learnable

CASES = [
    # (input example shape, pattern, sizes, expected output: arithmetic from the pattern)
    ((3, 32, 32), "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", {"p1": 8, "p2": 8}, ((32 // 8) * (32 // 8), 8 * 8 * 3)),
    ((3, 32, 32), "b c h w -> b (c h w)", {}, (3 * 32 * 32,)),
    ((10, 64), "b n (h d) -> b h n d", {"h": 4}, (4, 10, 64 // 4)),
    ((4, 10, 16), "b h n d -> b n (h d)", {}, (10, 4 * 16)),
    ((5, 6, 7), "b ... c -> b c ...", {}, (7, 5, 6)),
    ((8, 6), "b n d -> b n 1 d", {}, (8, 1, 6)),
    ((8, 1, 6), "b n 1 d -> b (n d)", {}, (8 * 6,)),
    ((12,), "b (g k) -> b g k", {"g": 3}, (3, 12 // 3)),
]
REFUSED = [
    ((3, 32, 30), "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", {"p1": 8, "p2": 8}),  # 30 is no multiple of 8
    ((3, 4), "b c n -> b c n x", {}),  # x is on neither side's input
    ((3, 4), "b (c d) n -> b c d n", {}),  # two unknown parts
]


def ours(shape, pattern, sizes):
    report = learnable.count({"input": list(shape), "layers": [{"Rearrange": {"pattern": pattern, "sizes": sizes}}]})
    return report.layers[-1]


@pytest.mark.parametrize("shape, pattern, sizes, expected", CASES, ids=[c[1] for c in CASES])
def test_rearrange_shapes_follow_the_pattern(shape, pattern, sizes, expected):
    row = ours(shape, pattern, sizes)
    assert row.output_shape == expected and row.params == 0 and row.macs == 0


@pytest.mark.frameworks
@pytest.mark.parametrize("shape, pattern, sizes, expected", CASES, ids=[c[1] for c in CASES])
def test_rearrange_agrees_with_einops(shape, pattern, sizes, expected):
    torch = pytest.importorskip("torch")
    einops = pytest.importorskip("einops")
    out = einops.rearrange(torch.zeros(2, *shape), pattern, **sizes)
    assert ours(shape, pattern, sizes).output_shape == tuple(out.shape[1:])


@pytest.mark.frameworks
@pytest.mark.parametrize("shape, pattern, sizes", REFUSED, ids=[c[1] for c in REFUSED])
def test_what_einops_refuses_is_refused(shape, pattern, sizes):
    torch = pytest.importorskip("torch")
    einops = pytest.importorskip("einops")
    with pytest.raises(einops.EinopsError):
        einops.rearrange(torch.zeros(2, *shape), pattern, **sizes)
    with pytest.raises(learnable.LearnableError):
        ours(shape, pattern, sizes)


def test_a_pattern_that_moves_the_batch_is_refused_saying_so():
    with pytest.raises(learnable.LearnableError, match="the pattern's first axis is the batch's"):
        ours((3, 4), "b c n -> c b n", {})


def test_the_shape_arithmetic_is_shown():
    row = ours((3, 32, 32), "b c (h p1) (w p2) -> b (h w) (p1 p2 c)", {"p1": 8, "p2": 8})
    assert row.shape_formula == "(h w): (32/8)×(32/8) = 16; (p1 p2 c): 8×8×3 = 192"
