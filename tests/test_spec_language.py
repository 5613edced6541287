"""The spec language's own arithmetic and names: ``**`` and exact ``/`` in expressions.

Expected values are hand arithmetic; a refusal is one line naming the place, exit status 2.
"""

from __future__ import annotations

import re

import pytest
from conftest import run_cli

import learnable


def units(spec) -> int:
    return learnable.count(spec).layers[-1].output_shape[-1]


def block_spec(expression: str, **params) -> str:
    values = ", ".join(f"{k}: {v}" for k, v in params.items())
    return (f"input: [8]\nblocks:\n  head:\n    params: {{{values}}}\n    layers:\n"
            f"      - Dense: \"{expression}\"\nlayers:\n  - head\n")


@pytest.mark.parametrize("expression, expected", [
    ("768 / 12", 64),
    ("2 ** 10", 1024),
    ("4 * 2 ** 3", 32),  # ** binds tighter than *, as in Python
    ("(3 + 1) ** 2 // 8", 2),
    ("1 ** 0", 1),
])
def test_compact_form_arithmetic(expression, expected):
    assert units(f"Input(8) | Dense({expression})") == expected


def test_block_parameters_divide_exactly_and_raise_to_powers():
    assert units(block_spec("$d / $heads", d=768, heads=12)) == 768 // 12
    assert units(block_spec("2 ** $n", n=6)) == 64


@pytest.mark.parametrize("spec, message", [
    ("Input(8) | Dense(7 / 2)", "Dense 'dense' (layer 2, line 1, column 12): argument 'units' must be an integer, "
                                "got 7 / 2 = 3.5, not a whole number (// rounds down)"),
    (block_spec("$d / $heads", d=768, heads=7),
     "(layer 1, line 6): argument 'units' must be an integer, got d / heads = 768 / 7 = 109.714, not a whole number"),
    ("Input(8) | Dense(8 / 0)", "division by zero in '8 / 0'"),
    ("Input(8) | Dense(2 ** -1)", "has a negative exponent, so it is not a whole number"),
    ("Input(8) | Dense(2 ** 10 ** 10)", "'2 ** 10 ** 10' is too large"),  # refused before computing it
])
def test_arithmetic_that_is_no_size_is_refused(spec, message):
    with pytest.raises(learnable.LearnableError, match=re.escape(message)):
        learnable.count(spec)


def test_a_quotient_that_is_no_whole_number_is_a_fraction_where_one_is_wanted():
    assert learnable.count("Input(8) | Dropout(1 / 2) | Dense(3)").total_params == 8 * 3 + 3
    rate = learnable.count(block_spec("1 / $n", n=4).replace("Dense", "Dropout")).layers[-1]
    assert rate.type == "Dropout" and rate.output_shape == (8,)


def test_a_fraction_on_the_command_line_is_one_line_and_exit_2():
    result = run_cli("count", "Input(8) | Dense(7 / 2)")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "not a whole number" in result.stderr
