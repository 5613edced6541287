"""Limits: long networks build without recursion, nesting and expansion have a stated limit
with a clear message, and every cycle is named.

The long networks have 20,000 layers here; LEARNABLE_SWEEP=5 (or more) builds the full
100,000. Correctness only: no test here times anything.
"""

from __future__ import annotations

import os

import pytest

import learnable

SWEEP = max(1, int(os.environ.get("LEARNABLE_SWEEP", "1")))
LAYERS = 20_000 * min(SWEEP, 5)
PER_LAYER = 4 * 4 + 4  # Dense(4) on 4 features


def error_of(source) -> str:
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(source)
    return str(caught.value)


# ---- long networks --------------------------------------------------------------------------------


def test_a_long_list_of_layers():
    report = learnable.count({"input": [4], "layers": [{"Dense": 4}] * LAYERS})
    assert len(report.layers) == LAYERS + 1 and report.total_params == LAYERS * PER_LAYER


def test_a_long_yaml_file(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text("input: [4]\nlayers:\n" + "  - Dense: 4\n" * LAYERS)
    assert learnable.count(path).total_params == LAYERS * PER_LAYER


def test_a_long_repeat():
    report = learnable.count({"input": [4], "layers": [{"Dense": {"units": 4, "repeat": LAYERS}}]})
    assert report.total_params == LAYERS * PER_LAYER and report.layers[-1].name == f"dense_{LAYERS - 1}"


def test_a_long_chain_written_backwards():
    # Each layer names its input, last layer first: the order comes from the graph alone.
    layers = [{"Dense": {"units": 4, "name": f"d{i}", "inputs": [f"d{i - 1}" if i else "input"]}}
              for i in range(LAYERS)]
    report = learnable.count({"input": [4], "layers": layers[::-1]})
    assert report.total_params == LAYERS * PER_LAYER
    assert report.layer(f"d{LAYERS - 1}").output_shape == (4,)


# ---- nesting and expansion --------------------------------------------------------------------------


def nested_blocks(depth: int) -> dict:
    """b0 uses b1, which uses b2, ... down to b{depth}, which holds one Dense(2)."""
    blocks = {f"b{i}": {"layers": [f"b{i + 1}"]} for i in range(depth)}
    blocks[f"b{depth}"] = {"layers": [{"Dense": 2}]}
    return {"input": [3], "blocks": blocks, "layers": ["b0"]}


def test_blocks_nested_fifty_deep_count():
    assert learnable.count(nested_blocks(49)).total_params == 3 * 2 + 2  # b0 ... b49: fifty levels


def test_blocks_nested_deeper_are_refused_naming_the_path():
    message = error_of(nested_blocks(50))
    assert "blocks are nested more than 50 deep at 'b0/b1/b2/" in message and "/b49/b50'" in message


def test_repeats_that_multiply_through_blocks_are_refused_before_building():
    # 1,000 × 1,000 × 1,000 layers from five lines: refused from its size, not after building it.
    spec = {"input": [2], "blocks": {"b1": {"layers": [{"Dense": {"units": 2, "repeat": 1000}}]},
                                     "b2": {"layers": [{"b1": {"repeat": 1000}}]}},
            "layers": [{"b2": {"repeat": 1000}}]}
    assert "expands to more than 200,000 layers" in error_of(spec)


def test_a_parameter_that_multiplies_repeats_is_refused_too():
    spec = {"input": [2], "blocks": {
        "b1": {"params": {"n": None}, "layers": [{"Dense": {"units": 2, "repeat": "$n"}}]},
        "b2": {"params": {"n": None}, "layers": [{"b1": {"n": "$n", "repeat": "$n"}}]}},
        "layers": [{"b2": {"n": 1000, "repeat": 1000}}]}
    assert "expands to more than 200,000 layers" in error_of(spec)


def test_a_large_expansion_under_the_limit_counts():
    spec = {"input": [2], "blocks": {"pair": {"layers": [{"Dense": 2}, {"Dense": 2}]}},
            "layers": [{"pair": {"repeat": 3}}]}
    assert learnable.count(spec).total_params == 6 * (2 * 2 + 2)


# ---- cycles, named ----------------------------------------------------------------------------------


@pytest.mark.parametrize("blocks, cycle", [
    ({"loop": {"layers": [{"Dense": 2}, "loop"]}}, "loop → loop"),
    ({"a": {"layers": ["b"]}, "b": {"layers": [{"Dense": 2}, "a"]}}, "a → b → a"),
])
def test_a_block_that_uses_itself_is_named(blocks, cycle):
    first = next(iter(blocks))
    message = error_of({"input": [3], "blocks": blocks, "layers": [first]})
    assert f"block '{first}' uses itself ({cycle})" in message


@pytest.mark.parametrize("layers, cycle", [
    ([{"Dense": {"name": "a", "shares": "a"}}], "a → a"),
    ([{"Dense": {"units": 2, "name": "a", "shares": "b"}}, {"Dense": {"units": 2, "name": "b", "shares": "a"}}],
     "a → b → a"),
    ([{"Dense": {"units": 2, "name": "a"}}, {"Dense": {"name": "b", "shares": "c"}}, {"Dense": {"name": "c", "shares": "b"}}],
     "b → c → b"),
])
def test_layers_that_share_in_a_circle_are_named(layers, cycle):
    assert f"sharing goes round in a circle ({cycle}" in error_of({"input": [3], "layers": layers})


def test_a_cycle_through_a_block_is_named():
    spec = {"inputs": {"x": [4]},
            "blocks": {"twice": {"layers": [{"Dense": {"units": 4, "name": "inner"}}, {"Dense": 4}]}},
            "layers": [{"Add": {"inputs": ["x", "t"], "name": "sum"}}, {"twice": {"name": "t", "inputs": ["sum"]}}]}
    assert "the layers form a cycle: sum → t/inner → t/dense → sum" in error_of(spec)


# ---- size before work (issue 19): each refused before it is built, with a message that is true ----


def test_a_few_lines_of_repeats_past_the_layer_limit_are_refused_before_building():
    spec = {"input": [4], "layers": [{"Dense": {"units": 4, "repeat": 99_900}}] * 10}  # 999,000 layers
    assert "expands to more than 200,000 layers through 'repeat:'" in error_of(spec)


def test_a_spec_listing_too_many_layers_is_refused_before_reading_them():
    spec = {"input": [4], "layers": ["Dense"] * 200_001}
    assert error_of(spec) == "the spec lists 200,001 layers; at most 200,000 are counted"


def test_a_compact_text_of_too_many_calls_is_refused_before_parsing(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("Input(4)\n" + "D()|" * 250_000 + "D()")
    message = error_of(str(path))
    assert "the compact form holds 250,002 calls" in message and "repeat" not in message


def test_a_compact_text_just_past_the_limit_stops_at_the_limit(tmp_path, monkeypatch):
    from learnable.spec import compact, model

    monkeypatch.setattr(compact, "MAX_LAYERS", 10)
    monkeypatch.setattr(model, "MAX_LAYERS", 10)
    path = tmp_path / "many.txt"
    path.write_text("Input(4)\n" + "Dense(4)\n" * 10)  # 11 layers, 11 calls: under the scan's margin
    assert error_of(str(path)).endswith("the spec lists more than 10 layers; at most 10 are counted")
