"""Expressions: exact values, and text that reads back to the same value."""

from __future__ import annotations

import pytest

from conftest import evaluate_formula
from learnable.expr import ceil_div, equation, floor_div, minus, num, product, quotient, total
from learnable.rules import Context, all_rules, lookup
from learnable.rules._args import bind


@pytest.mark.parametrize("expr, text, value", [
    (total(product(3, 3, 32, 64), 64), "3×3×32×64 + 64", 3 * 3 * 32 * 64 + 64),
    (product(3, 3, quotient(32, 8), 64), "3×3×(32/8)×64", 3 * 3 * 4 * 64),
    (total(floor_div(minus(24, 2), 2), 1), "⌊(24 − 2)/2⌋ + 1", 12),
    (ceil_div(224, 2), "⌈224/2⌉", 112),
    (minus(55, total(product(2, minus(3, 1)), 1)), "55 − (2×(3 − 1) + 1)", 50),
    (product(), "1", 1),
    (total(product(10**7, 10**7), 10**7), "10,000,000×10,000,000 + 10,000,000", 10**14 + 10**7),
])
def test_value_and_text(expr, text, value):
    assert (expr.render(), expr.value) == (text, value)
    assert evaluate_formula(expr.render()) == value


def test_inexact_quotient_is_refused():
    with pytest.raises(ValueError):
        quotient(32, 3)


def test_equation_shows_a_bare_number_once():
    assert equation(num(64)) == "64"
    assert equation(total(2, 2)) == "2 + 2 = 4"


def test_symbolic_rendering_of_a_rule():
    rule = lookup("Conv2D")
    inference = rule.infer(bind(rule.args, (64, 3), {"groups": 8}), [(8, 8, 32)], Context())
    assert inference.params.value == 3 * 3 * (32 // 8) * 64 + 64
    assert inference.params.render(symbolic=True) == "k_h×k_w×(C_in/groups)×filters + filters"


def test_every_rule_is_documented_and_well_formed():
    for rule in all_rules():
        assert rule.doc and rule.family, rule.name
        names = [a.name for a in rule.args]
        assert len(names) == len(set(names)), rule.name
        assert rule.framework in ("keras", "pytorch"), rule.name


def test_readme_lists_every_layer_type():
    """Every registered layer appears in README's Layers table, by name or in a run such
    as ``Conv1D/2D/3D``."""
    import re

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for rule in all_rules():
        ranked = re.fullmatch(r"(.+?)([123])([Dd])", rule.name)
        run = ranked and re.search(rf"\b{ranked[1]}(?:[123]{ranked[3]}/)*{ranked[2]}{ranked[3]}\b", readme)
        if not run and not re.search(rf"\b{re.escape(rule.name)}\b", readme):
            missing.append(rule.name)
    assert not missing, f"README's Layers table does not list {missing}"
