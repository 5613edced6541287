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
    ("Input(8) | Dense(7 / 2)", ("Dense 'dense' (layer 2, line 1, column 12): argument 'units' must be an integer, "
                                 "got 7 / 2 = 3.5, not a whole number (// rounds down)")),
    (block_spec("$d / $heads", d=768, heads=7),
     "(layer 1, line 6): argument 'units' must be an integer, got d / heads = 768 / 7 = 109.714, not a whole number"),
    ("Input(8) | Dense(8 / 0)", "division by zero in '8 / 0'"),
    ("Input(8) | Dense(2 ** -1)", "argument 'units' must be an integer, got 2 ** (-1) = 0.5, not a whole number"),
    ("Input(8) | Dense(2 ** 10 ** 10)", "'2 ** 10 ** 10' is too large"),  # refused before computing it
    ("Input(8) | Dense(2 ** -10 ** 10)", "'2 ** (-10 ** 10)' is too fine a fraction"),  # and its inverse
    ("Input(8) | Dense((1 / 3) ** -100)", "'(1 / 3) ** (-100)' is too large"),
    ("Input(8) | Dense(1 / (10 ** 40 + 1))", "'10 ** 40 + 1' is too large"),
    ("Input(8) | Dense(4 ** (1 / 2))", "'4 ** (1 / 2)' has an exponent that is not a whole number"),
    ("Input(8) | Dense(0 ** -1)", "division by zero in '0 ** (-1)'"),
    ("Input(8) | Dense(2 / (1 / 2 - 1 / 2))", "division by zero"),
])
def test_arithmetic_that_is_no_size_is_refused(spec, message):
    with pytest.raises(learnable.LearnableError, match=re.escape(message)):
        learnable.count(spec)


def test_a_quotient_that_is_no_whole_number_is_a_fraction_where_one_is_wanted():
    assert learnable.count("Input(8) | Dropout(1 / 2) | Dense(3)").total_params == 8 * 3 + 3
    rate = learnable.count(block_spec("1 / $n", n=4).replace("Dense", "Dropout")).layers[-1]
    assert rate.type == "Dropout" and rate.output_shape == (8,)


PARAMS_SPEC = "params: {{n: {n}, two: 2}}\ninput: [10]\nlayers:\n  - {layer}\n"


@pytest.mark.parametrize("layer, n, units_out", [
    ('Dense: {units: "$n / 8 * 16"}', 4, 4 * 16 // 8),  # 4 / 8 = 1/2 on the way, then 1/2 × 16 = 8 units
    ('Dense: "($n / 2) * 2"', 3, 3),
    ('Dense: "$n / 3 + $n / 3 + $n / 3"', 1, 1),  # thirds, exactly: no 0.9999… on the way
    ('Dense: "(1 / 10 + 2 / 10) * $n"', 10, 3),  # floats would give 3.0000000000000004
    ('Dense: "$two ** -2 * 4 * $n"', 5, 5),
])
def test_a_whole_result_reached_through_a_fraction_is_a_size(layer, n, units_out):
    report = learnable.count(PARAMS_SPEC.format(n=n, layer=layer))
    assert report.layers[-1].output_shape == (units_out,)
    assert report.total_params == 10 * units_out + units_out  # kernel 10 × units, then a bias each


@pytest.mark.parametrize("expression, units_out", [("3 / 2 * 2", 3), ("(3 / 2) * 2", 3), ("2 ** -1 * 8", 4),
                                                   ("-(1 / 2) * -6", 3), ("7 / 2 // 1", 3)])
def test_the_compact_form_reaches_whole_results_through_fractions_too(expression, units_out):
    assert learnable.count(f"Input(10) | Dense({expression})").total_params == 10 * units_out + units_out


@pytest.mark.parametrize("rate", ['"$two ** -1"', '"1 / $two"', '"$two ** -2 * 2"'])
def test_a_negative_exponent_is_a_fraction_where_a_rate_is_wanted(rate):
    # each is 1/2: accepted as Dropout's rate, and the Dense after it counts 10 × 3 + 3
    report = learnable.count(PARAMS_SPEC.format(n=1, layer=f"Dropout: {rate}") + "  - Dense: 3\n")
    assert [row.type for row in report.layers] == ["Input", "Dropout", "Dense"] and report.total_params == 10 * 3 + 3
    assert learnable.count("Input(10) | Dropout(2 ** -1) | Dense(3)").total_params == 10 * 3 + 3


def cli_error(tmp_path, text: str) -> str:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    result = run_cli("count", str(spec))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1
    return result.stderr.strip().replace(f"{tmp_path}/", "")


def test_a_rate_out_of_range_says_the_range_only(tmp_path):
    # 3 / 2 = 1.5 is no rate because it is above 1; that it is not whole does not matter to a rate
    message = cli_error(tmp_path, PARAMS_SPEC.format(n=3, layer='Dropout: "$n / 2"'))
    assert message == ("learnable: error: Dropout 'dropout' (layer 1, spec.yaml:4): argument 'rate' must be a number "
                       "from 0 to 1, got n / 2 = 3 / 2 = 1.5")
    assert "whole" not in message and "rounds down" not in message
    message = cli_error(tmp_path, PARAMS_SPEC.format(n=3, layer='Dropout: "-$two ** -1"'))
    assert message.endswith("must be a number from 0 to 1, got -two ** (-1) = -2 ** (-1) = -0.5")


def test_a_negative_exponent_where_a_size_is_wanted_shows_the_arithmetic(tmp_path):
    message = cli_error(tmp_path, PARAMS_SPEC.format(n=3, layer='Dense: "$two ** -1"'))
    assert message == ("learnable: error: Dense 'dense' (layer 1, spec.yaml:4): argument 'units' must be an integer, "
                       "got two ** (-1) = 2 ** (-1) = 0.5, not a whole number")
    message = cli_error(tmp_path, PARAMS_SPEC.format(n=3, layer='Dense: "$n / 2 * 3"'))
    assert message.endswith("got n / 2 * 3 = 3 / 2 * 3 = 4.5, not a whole number (// rounds down)")


def test_a_fraction_on_the_command_line_is_one_line_and_exit_2():
    result = run_cli("count", "Input(8) | Dense(7 / 2)")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "not a whole number" in result.stderr


# ---- top-level params: names every layer and block may use ----------------------------------

GPT2 = """
name: gpt2
params: {d: 768, layers: 12, heads: 12}
inputs: {input_ids: [1024], position_ids: [1024]}
layers:
  - nn.Embedding: {num_embeddings: 50257, embedding_dim: $d, name: wte, inputs: [input_ids]}
  - nn.Embedding: {num_embeddings: 1024, embedding_dim: $d, name: wpe, inputs: [position_ids]}
  - Add: {inputs: [wte, wpe]}
  - TransformerEncoderLayer: {d_model: $d, nhead: $heads, dim_feedforward: "4 * $d", norm_first: true,
                              repeat: $layers, name: h}
  - LayerNorm: $d
"""


def gpt2_total(d: int, layers: int) -> int:
    """wte + wpe + layers × (attention 4d² + 4d, MLP 8d² + 5d, two LayerNorms 4d) + ln_f 2d."""
    return 50257 * d + 1024 * d + layers * (12 * d * d + 13 * d) + 2 * d


def test_top_level_params_are_names_in_layer_arguments():
    # Hugging Face's GPT2Model("gpt2").num_parameters(): 124,439,808
    assert learnable.count(GPT2).total_params == gpt2_total(768, 12) == 124_439_808


def test_a_paired_sweep_of_params_gives_gpt2_small_to_xl():
    grid = {"params.d": [768, 1024, 1280, 1600], "params.layers": [12, 24, 36, 48], "params.heads": [12, 16, 20, 25]}
    totals = [v.report.total_params for v in learnable.sweep(GPT2, grid, paired=True)]
    # GPT2Model num_parameters() for gpt2, gpt2-medium, gpt2-large, gpt2-xl
    assert totals == [124_439_808, 354_823_168, 774_030_080, 1_557_611_200]
    assert totals == [gpt2_total(d, n) for d, n in zip(grid["params.d"], grid["params.layers"])]


def test_blocks_see_the_spec_params_beneath_their_own():
    spec = """
params: {d: 16, width: 2}
input: [8]
blocks:
  mlp:
    params: {width: 4}           # its own width wins over the spec's
    layers:
      - Dense: "$d * $width"
      - Dense: $d
layers:
  - Dense: "$d * $width"
  - mlp: {}
  - mlp: {d: 8}                  # and a use may give another value
"""
    rows = [row for row in learnable.count(spec).layers if row.params]
    assert [row.output_shape for row in rows] == [(16 * 2,), (16 * 4,), (16,), (8 * 4,), (8,)]


@pytest.mark.parametrize("spec, message", [
    ("params: {d: 8}\ninput: [4]\nlayers:\n  - Dense: $e\n", "the spec's 'params:' has no parameter 'e'"),
    ("params: [8]\ninput: [4]\nlayers:\n  - Dense: 3\n", "'params:' must map each name to its value"),
    ("params: {d: ~}\ninput: [4]\nlayers:\n  - Dense: 3\n", "'params:' gives no value for 'd'"),
])
def test_params_errors(spec, message):
    with pytest.raises(learnable.LearnableError, match=re.escape(message)):
        learnable.count(spec)


def test_a_sweep_key_names_a_param_that_exists():
    with pytest.raises(learnable.LearnableError, match=re.escape("the spec's 'params:' has no 'dd'; did you mean 'd'")):
        list(learnable.sweep(GPT2, {"params.dd": [1, 2]}))
