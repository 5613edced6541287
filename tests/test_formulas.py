"""Counts as formulas (learnable.symbolic) and budgets (learnable.solve).

Oracles: hand-derived polynomials written as arithmetic here; Keras's count_params() at
random widths; and the engine's own numeric count of each variant (learnable.count on the
spec with its params set), which is independent of the interpolation: the polynomials are
re-evaluated at random points, most of them never fitted through. The solver is checked
against a brute-force search over the whole range.
"""

from __future__ import annotations

import json
import random

import pytest

import learnable
from learnable._polyfit import SymbolicError
from learnable.cli import main
from learnable.polynomial import Polynomial

MLP = {"params": {"w": 64}, "input": [784], "layers": [{"Dense": "$w"}, {"Dense": "$w"}, {"Dense": 10}]}
DEEP = {"params": {"width": 32, "depth": 3}, "input": [100],
        "layers": [{"Dense": "$width"}, {"Dense": {"units": "$width", "repeat": "$depth"}}, {"Dense": 10}]}
CONV = {"params": {"n": 33, "f": 8}, "input": ["$n", "$n", 3],
        "layers": [{"Conv2D": {"filters": "$f", "kernel_size": 3, "strides": 2}}, "Flatten", {"Dense": 10}]}
ENCODER = {"params": {"d": 64, "layers": 2}, "input": [16, "$d"],
           "layers": [{"TransformerEncoderLayer": {"d_model": "$d", "nhead": 4, "dim_feedforward": "4 * $d",
                                                   "repeat": "$layers"}}]}


def with_params(spec: dict, **values: int) -> dict:
    return {**spec, "params": {**spec["params"], **values}}


def random_points(result, n: int, seed: int = 1) -> list[dict[str, int]]:
    rng = random.Random(seed)
    return [{a.name: a.lo + a.step * rng.randrange(a.size) for a in result.axes} for _ in range(n)]


def fitted_points(result) -> set[tuple[int, ...]]:
    from itertools import product

    return set(product(*result.grid))


def test_mlp_against_hand_derived_polynomial():
    result = learnable.symbolic(MLP, ["w"], ranges={"w": "1..5000"})
    # 784w + w (first Dense) + w·w + w (second) + 10w + 10 (last) = w² + 796w + 10
    for w in [1, 7, 64, 999, 4_321, *range(100, 5000, 97)]:
        assert result.params({"w": w}) == 784 * w + w + w * w + w + 10 * w + 10
    assert str(result.params) == "w² + 796w + 10"
    assert [row.params({"w": 5}) for row in result.layers] == [0, 784 * 5 + 5, 5 * 5 + 5, 10 * 5 + 10]


def test_polynomials_equal_the_engine_count_at_random_points():
    for spec, names, ranges in [(DEEP, ["width", "depth"], {"depth": "0..40"}), (MLP, ["w"], {}),
                                (CONV, ["n", "f"], {"n": "3..301:2"}),
                                (ENCODER, ["d", "layers"], {"d": "4..512:4", "layers": "1..24"})]:
        result = learnable.symbolic(spec, names, ranges=ranges)
        points = random_points(result, 25)
        outside = [p for p in points if tuple(p.values()) not in fitted_points(result)]
        assert len(outside) >= 20, "most points checked must be points the fit never saw"
        for point in points:
            report = learnable.count(with_params(spec, **point))
            assert result.params(point) == report.total_params, (spec, point)
            assert result.trainable(point) == report.trainable_params
            assert result.macs(point) == report.total_macs, (spec, point)
            assert sum(row.params(point) for row in result.layers) == report.total_params


def test_depth_as_a_repeat_count_is_one_row_per_copy():
    result = learnable.symbolic(DEEP, ["width", "depth"], ranges={"depth": "0..30"})
    repeated = [row for row in result.layers if row.layers is not None]
    assert len(repeated) == 1 and repeated[0].copies == "depth"
    for width, depth in [(3, 0), (17, 5), (120, 29)]:
        assert repeated[0].params({"width": width, "depth": depth}) == depth * (width * width + width)
        assert repeated[0].layers({"width": width, "depth": depth}) == depth
        # 100w + w + depth·(w² + w) + 10w + 10
        assert result.params({"width": width, "depth": depth}) == (100 * width + width + depth * (width * width + width)
                                                                   + 10 * width + 10)
    assert str(repeated[0].per_copy) == "width² + width"


def test_keras_mlp_count_params_equals_the_polynomial():
    keras = pytest.importorskip("keras")
    result = learnable.symbolic(MLP, ["w"], ranges={"w": "1..2048"})
    for w in random.Random(3).sample(range(1, 2049), 6):
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(w), keras.layers.Dense(w),
                                  keras.layers.Dense(10)])
        assert result.params({"w": w}) == model.count_params(), w


def test_a_stride_over_every_value_is_not_a_polynomial():
    with pytest.raises(SymbolicError, match="not a polynomial in n") as err:
        learnable.symbolic(CONV, ["n"], ranges={"n": "3..200"})
    assert "the count is" in str(err.value)


def test_a_floor_division_of_the_depth_is_caught_beyond_the_fit():
    spec = {"params": {"depth": 4}, "input": [8],
            "layers": [{"Dense": {"units": 8, "repeat": "$depth // 3"}}, {"Dense": 2}]}
    with pytest.raises(SymbolicError, match="not a polynomial"):
        learnable.symbolic(spec, ["depth"], ranges={"depth": "1..60"})


def test_json_terms_re_evaluate_to_the_count():
    result = learnable.symbolic(DEEP, ["width", "depth"])
    data = json.loads(json.dumps(result.to_dict()))
    for point in random_points(result, 10, seed=7):
        value = sum(int(c) * (point["width"] ** e.get("width", 0)) * (point["depth"] ** e.get("depth", 0))
                    for c, e in data["params"]["terms"])
        assert value == learnable.count(with_params(DEEP, **point)).total_params


def test_polynomial_printing():
    from fractions import Fraction

    p = Polynomial(("w",), {(2,): Fraction(9), (1,): Fraction(1234), (0,): Fraction(10)})
    assert str(p) == "9w² + 1,234w + 10"
    q = Polynomial(("n", "f"), {(2, 1): Fraction(5, 2), (1, 1): Fraction(-5), (0, 0): Fraction(10)})
    assert str(q) == "(5/2)n²f − 5nf + 10"
    assert q.to_dict()["terms"][0] == ["5/2", {"n": 2, "f": 1}]


@pytest.mark.parametrize(("spec", "budget", "name", "within"), [
    (MLP, "params <= 1000000", "w", "1..3000"),
    (MLP, "params < 2e5", "w", "1..3000"),
    (DEEP, "params >= 123456", "depth", "0..800"),
    (DEEP, "macs <= 50000", "width", "1..2000"),
    (ENCODER, "params <= 3e6", "d", "4..1024:4"),
    (CONV, "params <= 40000", "n", "3..400"),  # not a polynomial: monotone on a sample
    ({"params": {"k": 3}, "input": [32, 32, 3],  # params fall then rise with k: every value counted
      "layers": [{"Conv2D": [8, "$k"]}, "Flatten", {"Dense": 10}]}, "params <= 60000", "k", "1..32"),
])
def test_solve_equals_brute_force(spec, budget, name, within):
    solution = learnable.solve(spec, budget, name, within=within)
    lo, rest = within.split("..")
    hi, _, step = rest.partition(":")
    values = range(int(lo), int(hi) + 1, int(step or 1))
    quantity, op, amount = budget.split()
    amount = int(float(amount))
    meets = {"<=": lambda q: q <= amount, "<": lambda q: q < amount, ">=": lambda q: q >= amount}[op]

    def count(x):
        report = learnable.count(with_params(spec, **{name: x}))
        return report.total_macs if quantity == "macs" else report.total_params

    found = [x for x in values if meets(count(x))]
    expected = (found[-1] if op.startswith("<") else found[0]) if found else None
    assert solution.value == expected
    if solution.value is not None:
        assert solution.count == count(expected)
        if solution.neighbour is not None:
            assert not meets(solution.neighbour_count) and solution.neighbour_count == count(solution.neighbour)


def test_solve_says_how_it_searched():
    assert "monotone" in learnable.solve(MLP, "params <= 1e6", "w").method
    scan = learnable.solve({"params": {"k": 3}, "input": [32, 32, 3],
                            "layers": [{"Conv2D": [8, "$k"]}, "Flatten", {"Dense": 10}]}, "params <= 60000", "k",
                           within="1..32")
    assert "every value counted" in scan.method


def test_cli(tmp_path, capsys):
    spec = tmp_path / "mlp.yaml"
    spec.write_text("params: {width: 64}\ninput: [784]\nlayers:\n  - Dense: $width\n  - Dense: $width\n  - Dense: 10\n")
    assert main(["count", str(spec), "--symbolic", "width=1..512"]) == 0
    assert "params(width) = width² + 796·width + 10" in capsys.readouterr().out
    assert main(["count", str(spec), "--symbolic", "width", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"]["terms"] == [[1, {"width": 2}], [796, {"width": 1}], [10, {}]]
    assert main(["solve", str(spec), "params <= 5e6", "--for", "width"]) == 0
    out = capsys.readouterr().out
    # w² + 796w + 10 ≤ 5,000,000 holds at 1,873 and not at 1,874
    assert 1873 ** 2 + 796 * 1873 + 10 <= 5_000_000 < 1874 ** 2 + 796 * 1874 + 10
    assert "width = 1,873" in out and "width = 1,874" in out
    assert main(["count", str(spec), "--symbolic", "widht"]) == 2
    assert "did you mean 'width'" in capsys.readouterr().err
