"""Counts beyond 2^53 (where a float loses units) and 2^63 (where an int64 overflows) stay exact
in the report and in every renderer. Each expected number is worked out by hand below and
chosen so that no float can hold it: one float conversion anywhere would change a digit."""

from __future__ import annotations

import json

import pytest

import learnable
from learnable.render import FORMATS, render

M = 2**63 - 1  # the largest size a spec may state

# name → (spec, the largest row's params, total params), the numbers by hand.
CASES = {
    # Dense(1) on 2^53 inputs: 2^53 weights + 1 bias. A float rounds 2^53 + 1 to 2^53.
    "2^53 + 1": ({"input": [2**53], "layers": [{"Dense": 1}]},
                 9_007_199_254_740_993, 9_007_199_254_740_993),
    # (2^63 − 1)·1 + 1 = 2^63, then 1·1 + 1 = 2: past int64, and odd over 2^64's float spacing.
    "2^63 + 2": ({"input": [M], "layers": [{"Dense": 1}, {"Dense": 1}]},
                 9_223_372_036_854_775_808, 9_223_372_036_854_775_810),
    # Dense(10^7) on 10^7 inputs: 10^14 + 10^7 = 100,000,010,000,000, a hundred times; then
    # Dense(1): 10^7 + 1. Total 10^16 + 10^9 + 10^7 + 1: odd, so no float holds it.
    "10^7 × 10^7, repeated": ({"input": [10**7], "layers": [{"Dense": {"units": 10**7, "repeat": 100}}, {"Dense": 1}]},
                              100_000_010_000_000, 10_000_001_010_000_001),
    # Dense(10^12) after 10^12 inputs: 10^24 + 10^12, whose odd part needs 68 bits.
    "Dense(10^12) after a wide input": ({"input": [10**12], "layers": [{"Dense": 10**12}]},
                                        1_000_000_000_001_000_000_000_000, 1_000_000_000_001_000_000_000_000),
}
assert 100 * 100_000_010_000_000 + 10_000_001 == 10_000_001_010_000_001 > 2**53
assert all(float(total) != total for _, _, total in CASES.values())  # each number is past a float's reach


def shown(number: int, fmt: str) -> str:
    """How a renderer writes an exact integer: thousands separated for people ({,} in
    LaTeX), digits alone for programs."""
    if fmt in ("json", "csv"):
        return str(number)
    grouped = f"{number:,}"
    return grouped.replace(",", "{,}") if fmt == "latex" else grouped


@pytest.mark.parametrize("case", CASES)
def test_the_report_holds_the_exact_integers(case):
    spec, row, total = CASES[case]
    report = learnable.count(spec)
    assert max(layer.params for layer in report.layers) == row
    assert report.total_params == total and type(report.total_params) is int


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES)
def test_every_renderer_shows_the_exact_integers(case, fmt):
    spec, row, total = CASES[case]
    text = render(learnable.count(spec), fmt, explain=True)
    assert shown(row, fmt) in text, f"{shown(row, fmt)} not in the {fmt} output"
    if fmt != "csv":  # the CSV has one line per layer and no total line
        assert shown(total, fmt) in text, f"{shown(total, fmt)} not in the {fmt} output"


@pytest.mark.parametrize("case", CASES)
def test_json_numbers_are_integers_not_floats(case):
    spec, row, total = CASES[case]
    data = json.loads(render(learnable.count(spec), "json"))  # json reads digits without a point as int
    assert data["total_params"] == total and type(data["total_params"]) is int
    assert max(layer["params"] for layer in data["layers"]) == row
    assert all(type(w["size"]) is int for layer in data["layers"] for w in layer["weights"])


def test_block_subtotals_stay_exact():
    spec = {"input": [2**53], "blocks": {"pair": {"layers": [{"Dense": 1}, {"Dense": 1}]}}, "layers": ["pair"]}
    report = learnable.count(spec)
    subtotal = (2**53 * 1 + 1) + (1 * 1 + 1)  # 9,007,199,254,740,995
    assert report.blocks[0].params == subtotal == 9_007_199_254_740_995
    assert json.loads(render(report, "json"))["blocks"][0]["params"] == subtotal
    assert f"{subtotal:,}" in render(report, "table")


def test_both_conventions_side_by_side_stay_exact():
    spec, row, total = CASES["2^63 + 2"]
    data = json.loads(render(learnable.compare_conventions(spec), "json"))
    assert data["keras"]["total_params"] == data["pytorch"]["total_params"] == total
    assert [layer["keras_params"] for layer in data["layers"]] == [0, row, 2]


# ---- sizes that grow past anything real ------------------------------------------------------------


def test_an_output_size_past_2_to_the_63_is_refused():
    chain = " | ".join([f"RepeatVector({M}) | Flatten()"] * 250)
    with pytest.raises(learnable.LearnableError, match="too large|larger than|at most"):
        learnable.count(f"Input(2) | {chain} | Dense(3)")


def test_html_of_a_count_past_the_float_range():
    spec = {"input": [M] * 40, "layers": ["Flatten", {"Dense": 2}]}
    total = M**40 * 2 + 2  # Flatten: (2^63 − 1)^40 values; Dense(2): that × 2 weights + 2 biases
    try:
        text = render(learnable.count(spec), "html")
    except learnable.LearnableError:
        return  # refused as too large: also right
    assert f"{total:,}" in text
