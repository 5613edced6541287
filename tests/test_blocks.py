"""Blocks, repeats, shared layers and frozen parts, from hand arithmetic and from Keras."""

from __future__ import annotations

import math

import pytest

import learnable
from learnable.render import render

IDENTITY = {
    "params": {"filters": None, "kernel_size": 3},
    "layers": [
        {"Conv2D": {"filters": "$filters", "kernel_size": 1}},
        {"Conv2D": {"filters": "$filters", "kernel_size": "$kernel_size", "padding": "same"}},
        "Conv2D(filters * 4, 1, name='last')",
        {"Add": {"inputs": ["input", "last"]}},
        "ReLU",
    ],
}


def resnet_like(**changes) -> dict:
    spec = {
        "name": "mini-resnet",
        "input": [32, 32, 3],
        "blocks": {"identity_block": IDENTITY},
        "layers": [
            {"Conv2D": {"filters": 64, "kernel_size": 3, "padding": "same", "name": "stem"}},
            {"identity_block": {"filters": 16, "repeat": 2}},
            {"identity_block": {"filters": 16, "name": "final", "trainable": False}},
            {"GlobalAveragePooling2D": {"name": "gap"}},
            {"Dense": {"units": 10, "name": "head"}},
            {"Dense": {"shares": "head", "inputs": ["gap"]}},
        ],
    }
    spec.update(changes)
    return spec


BLOCK = (1 * 1 * 64 * 16 + 16) + (3 * 3 * 16 * 16 + 16) + (1 * 1 * 16 * 64 + 64)


def test_blocks_expand_with_their_parameters():
    report = learnable.count(resnet_like())
    assert [b.name for b in report.blocks] == ["identity_block", "identity_block_1", "final"]
    assert [b.params for b in report.blocks] == [BLOCK] * 3
    assert report.layer("final/last").params == 1 * 1 * 16 * 64 + 64  # filters * 4 = 64
    assert report.layer("identity_block_1/add").inputs == ("identity_block/re_lu", "identity_block_1/last")
    assert report.total_params == (3 * 3 * 3 * 64 + 64) + 3 * BLOCK + (64 * 10 + 10)


def test_a_frozen_block_is_non_trainable():
    report = learnable.count(resnet_like())
    final = next(b for b in report.blocks if b.name == "final")
    assert (final.trainable, final.non_trainable) == (0, BLOCK)
    assert report.non_trainable_params == BLOCK


def test_a_shared_layer_counts_once_and_says_where():
    report = learnable.count(resnet_like())
    assert report.layer("head").params == 64 * 10 + 10
    assert report.layer("dense").params == 0
    assert "shares the weights of 'head'" in report.layer("dense").note
    assert "also used by 'dense'" in report.layer("head").note


def test_depth_opens_blocks_as_a_tree():
    report = learnable.count(resnet_like())
    collapsed = render(report, "markdown")
    assert "| identity_block | identity_block (block) | (32, 32, 64) | 4,448 |" in collapsed
    assert "conv2d_1" not in collapsed
    opened = render(report, "markdown", depth=1)
    assert "|   conv2d_1 | Conv2D |" in opened


def test_repeat_names_and_references():
    spec = {"input": [4], "layers": [{"Dense": {"units": 4, "repeat": 3, "name": "enc"}},
                                     {"Dense": {"units": 2, "inputs": ["enc"]}}]}
    report = learnable.count(spec)
    assert [r.name for r in report.layers] == ["input", "enc_1", "enc_2", "enc_3", "dense"]
    assert report.layer("dense").inputs == ("enc_3",)
    assert report.total_params == 3 * (4 * 4 + 4) + (4 * 2 + 2)


def test_nested_blocks_and_an_explicit_output():
    spec = {
        "input": [8],
        "blocks": {
            "pair": {"params": {"units": None}, "output": "first",
                     "layers": [{"Dense": {"units": "$units", "name": "first"}}, {"Dense": 1}]},
            "stage": {"params": {"n": 2}, "layers": [{"pair": {"units": "$n * 2"}}, {"pair": {"units": "$n"}}]},
        },
        "layers": [{"stage": {"n": 3}}],
    }
    report = learnable.count(spec)
    assert [b.name for b in report.blocks] == ["stage", "stage/pair", "stage/pair_1"]
    assert report.layer("stage/pair_1/first").inputs == ("stage/pair/first",)  # a pair's output is 'first'
    first = 8 * 6 + 6
    assert report.blocks[0].params == first + (6 * 1 + 1) + (6 * 3 + 3) + (3 * 1 + 1)
    assert render(report, "markdown", depth=2).count("(block)") == 3


@pytest.mark.parametrize("change, message", [
    ({"layers": [{"identity_block": {}}]}, "needs a value for its parameter 'filters'"),
    ({"layers": [{"identity_block": {"filterz": 3}}]}, "has no parameter 'filterz'"),
    ({"layers": [{"identity_block": [16]}]}, "give a block's parameters by name"),
    ({"blocks": {"loop": {"layers": [{"loop": {}}]}}, "layers": [{"loop": {}}]}, "nested more than 50 deep"),
    ({"blocks": {"b": {"layers": [{"Dense": "$units"}]}}, "layers": [{"b": {}}]}, "has no parameter 'units'"),
    ({"blocks": {"b": {"inputs": ["x", "y"], "layers": ["Add"]}}, "layers": [{"b": {}}]}, "takes 2 input(s)"),
    ({"blocks": {"b": {"layers": []}}}, "must have a non-empty 'layers:' list"),
    ({"layers": [{"Dense": {"units": 3, "repeat": -1}}]}, "repeat must be a whole number from 0"),
    ({"layers": ["Flatten", {"Dense": {"units": 3, "name": "h"}}, {"Dense": {"shares": "h"}}]}, "needs weights of shapes"),
    ({"layers": [{"Dense": {"units": 3, "name": "h"}}, {"Dense": {"units": 4, "shares": "h"}}]}, "not arguments of its own"),
])
def test_block_errors(change, message):
    with pytest.raises(learnable.LearnableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        learnable.count(resnet_like(**change))


@pytest.mark.frameworks
def test_sharing_and_freezing_agree_with_keras():
    keras = pytest.importorskip("keras")
    inputs = keras.Input((8,))
    head = keras.layers.Dense(4)
    frozen = keras.layers.Dense(8, trainable=False)
    x = frozen(inputs)
    a, b = head(inputs), head(x)  # one layer called twice
    model = keras.Model(inputs, keras.layers.Add()([a, b]))
    spec = {"input": [8], "layers": [
        {"Dense": {"units": 8, "trainable": False, "name": "frozen"}},
        {"Dense": {"units": 4, "name": "head", "inputs": ["input"]}},
        {"Dense": {"shares": "head", "inputs": ["frozen"], "name": "head_again"}},
        {"Add": {"inputs": ["head", "head_again"]}},
    ]}
    report = learnable.count(spec)
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    assert (report.total_params, report.trainable_params) == (model.count_params(), trainable)


def test_a_chain_of_shares_leads_to_the_owner():
    spec = {"input": [4], "layers": [
        {"Dense": {"units": 8, "name": "a"}},
        {"Dense": {"shares": "a", "name": "b", "inputs": ["input"]}},
        {"Dense": {"shares": "b", "name": "c", "inputs": ["input"]}},
    ]}
    report = learnable.count(spec)
    assert [r.params for r in report.layers] == [0, 4 * 8 + 8, 0, 0]
    assert report.layer("a").note == "its weights are also used by 'b', 'c'"
    assert "shares the weights of 'a'" in report.layer("c").note


def test_nested_layers_frozen_named_and_written_as_call_strings():
    lstm = 4 * (4 * (8 + 4) + 4)  # Keras LSTM(4) on 8 features
    frozen = learnable.count("Input(10, 8) | Bidirectional(LSTM(4, trainable=False, name='enc'))").layers[-1]
    assert (frozen.params, frozen.trainable) == (2 * lstm, 0)
    as_yaml = learnable.count({"input": [10, 8], "layers": [{"Bidirectional": {"layer": "LSTM(4)"}}]})
    assert as_yaml.total_params == 2 * lstm
    with pytest.raises(learnable.LearnableError, match=r"Bidirectional 'bidirectional' \(layer 2, .*names an unknown layer type 'LSTMM'"):
        learnable.count("Input(10, 8) | Bidirectional(LSTMM(4))")


# ---- repeat with stated inputs: the copies chain -----------------------------------------------


def _keras_rows(keras, outputs):
    """(output shape, params) of each Keras layer that made ``outputs``, in order."""
    return [(tuple(t.shape[1:]), t._keras_history.operation.count_params()) for t in outputs]


def _our_rows(report, names):
    return [(report.layer(n).output_shape, report.layer(n).params) for n in names]


@pytest.mark.frameworks
def test_a_repeated_layer_with_one_stated_input_chains_its_copies():
    keras = pytest.importorskip("keras")
    spec = {"inputs": {"a": [28, 28, 1]}, "layers": [
        {"Conv2D": {"filters": 2, "kernel_size": 5, "inputs": ["a"], "name": "other"}},
        {"Conv2D": {"filters": 4, "kernel_size": 3, "inputs": ["a"], "repeat": 3, "name": "c"}},
    ]}
    report = learnable.count(spec)
    a = keras.Input((28, 28, 1))
    c1 = keras.layers.Conv2D(4, 3)(a)
    c2 = keras.layers.Conv2D(4, 3)(c1)
    c3 = keras.layers.Conv2D(4, 3)(c2)
    assert _our_rows(report, ["c_1", "c_2", "c_3"]) == _keras_rows(keras, [c1, c2, c3])
    assert [r.output_shape[0] for r in report.layers[2:]] == [26, 24, 22]


@pytest.mark.frameworks
def test_a_repeated_merge_takes_the_copy_before_it_and_keeps_its_other_inputs():
    keras = pytest.importorskip("keras")
    spec = {"inputs": {"x": [6], "m": [4]}, "layers": [
        {"Concatenate": {"inputs": ["x", "m"], "repeat": 3, "name": "cat"}},
    ]}
    report = learnable.count(spec)
    x, m = keras.Input((6,)), keras.Input((4,))
    c1 = keras.layers.Concatenate()([x, m])
    c2 = keras.layers.Concatenate()([c1, m])
    c3 = keras.layers.Concatenate()([c2, m])
    assert _our_rows(report, ["cat_1", "cat_2", "cat_3"]) == _keras_rows(keras, [c1, c2, c3])
    assert report.layer("cat_3").inputs == ("cat_2", "m")


@pytest.mark.frameworks
def test_a_repeated_block_with_one_stated_input_chains_its_copies():
    keras = pytest.importorskip("keras")
    spec = {"inputs": {"a": [16, 16, 3]},
            "blocks": {"down": {"params": {"f": None}, "layers": [{"Conv2D": {"filters": "$f", "kernel_size": 3}},
                                                                    "ReLU"]}},
            "layers": [{"Dense": {"units": 2, "inputs": ["a"]}},
                       {"down": {"f": 8, "inputs": ["a"], "repeat": 3, "name": "d"}}]}
    report = learnable.count(spec)
    a = keras.Input((16, 16, 3))
    x, convs = a, []
    for _ in range(3):
        convs.append(keras.layers.Conv2D(8, 3)(x))
        x = keras.layers.ReLU()(convs[-1])
    assert _our_rows(report, ["d_1/conv2d", "d_2/conv2d", "d_3/conv2d"]) == _keras_rows(keras, convs)
    assert [b.output_shape for b in report.blocks] == [(14, 14, 8), (12, 12, 8), (10, 10, 8)]


@pytest.mark.frameworks
def test_a_repeated_block_with_several_inputs_chains_the_first():
    """A decoder stack: each layer takes the last one's output and the same memory."""
    keras = pytest.importorskip("keras")
    spec = {"inputs": {"x": [6], "memory": [4]},
            "blocks": {"decoder": {"inputs": ["y", "mem"], "layers": [{"Concatenate": {"inputs": ["y", "mem"]}},
                                                                      {"Dense": 8}]}},
            "layers": [{"decoder": {"inputs": ["x", "memory"], "repeat": 3}}]}
    report = learnable.count(spec)
    x, memory = keras.Input((6,)), keras.Input((4,))
    y, dense = x, []
    for _ in range(3):
        dense.append(keras.layers.Dense(8)(keras.layers.Concatenate()([y, memory])))
        y = dense[-1]
    names = ["decoder/dense", "decoder_1/dense", "decoder_2/dense"]
    assert _our_rows(report, names) == _keras_rows(keras, dense)
    assert [r.params for r in report.layers if r.type == "Dense"] == [(6 + 4) * 8 + 8, (8 + 4) * 8 + 8, (8 + 4) * 8 + 8]


# ---- repeat: 0 (an optional layer or block) and repeat: 1 (a stack of one) ------------------


def test_repeat_zero_leaves_a_layer_out_and_passes_its_input_on():
    spec = {"input": [8], "layers": [{"Dense": {"units": 4, "repeat": 0}}, {"Dense": 3}]}
    report = learnable.count(spec)
    assert [row.name for row in report.layers] == ["input", "dense"]  # named as if never written
    assert report.total_params == 8 * 3 + 3
    # A named one stands for its first input: a later layer that names it takes that input.
    named = {"input": [8], "layers": [{"Dense": {"units": 4, "name": "h", "repeat": 0}},
                                      {"Dense": {"units": 3, "inputs": ["h"], "name": "out"}}]}
    assert learnable.count(named).layer("out").inputs == ("input",)


def test_repeat_one_is_a_stack_of_one_named_as_written():
    report = learnable.count({"input": [8], "layers": [{"Dense": {"units": 4, "name": "h", "repeat": 1}},
                                                       {"Dense": {"units": 3, "inputs": ["h"]}}]})
    assert [row.name for row in report.layers] == ["input", "h", "dense"]
    assert report.total_params == (8 * 4 + 4) + (4 * 3 + 3)


BASIC = {  # ResNet's basic block, its projection shortcut present or not by a parameter
    "params": {"filters": None, "strides": 1, "project": 0},
    "layers": [
        {"Conv2D": {"filters": "$filters", "kernel_size": 3, "strides": "$strides", "padding": "same",
                    "use_bias": False, "name": "a"}},
        {"Conv2D": {"filters": "$filters", "kernel_size": 3, "padding": "same", "use_bias": False, "name": "b"}},
        {"Conv2D": {"filters": "$filters", "kernel_size": 1, "strides": "$strides", "use_bias": False,
                    "inputs": ["input"], "name": "shortcut", "repeat": "$project"}},
        {"Add": {"inputs": ["b", "shortcut"]}},
    ],
}


def test_an_optional_layer_in_a_block_is_there_by_a_parameter():
    spec = {"input": [8, 8, 16], "blocks": {"basic": BASIC},
            "layers": [{"basic": {"filters": 16, "name": "same"}},
                       {"basic": {"filters": 32, "strides": 2, "project": 1, "name": "down"}}]}
    report = learnable.count(spec)
    # Without its shortcut conv the Add takes the block's input itself (an identity shortcut).
    assert report.layer("same/add").inputs == ("same/b", "input")
    assert "same/shortcut" not in [row.name for row in report.layers]
    assert report.layer("down/add").inputs == ("down/b", "down/shortcut")
    assert report.total_params == 2 * 3 * 3 * 16 * 16 + (3 * 3 * 16 * 32 + 3 * 3 * 32 * 32 + 16 * 32)
    assert report.layers[-1].output_shape == (4, 4, 32)


def test_repeat_zero_on_a_block_use_and_on_all_of_a_block():
    block = {"params": {"n": 1}, "layers": [{"Dense": {"units": 4, "repeat": "$n", "name": "o"}}], "output": "o"}
    left_out = {"input": [8], "blocks": {"b": block}, "layers": [{"b": {"repeat": 0}}, {"Dense": 3}]}
    report = learnable.count(left_out)
    assert report.blocks == () and report.total_params == 8 * 3 + 3
    emptied = {"input": [8], "blocks": {"b": block}, "layers": [{"b": {"n": 0, "name": "b"}}, {"Dense": 3}]}
    report = learnable.count(emptied)  # a block all of whose layers are left out passes its input on
    assert report.layer("dense").inputs == ("input",) and report.blocks[0].output_shape == (8,)


@pytest.mark.parametrize("spec, message", [
    ({"input": [8], "layers": [{"Dense": {"units": 4, "name": "h", "repeat": 0}}, {"Dense": {"shares": "h"}}]},
     "shares 'h', which is omitted (repeat: 0)"),
    ({"input": [8], "layers": [{"Parameter": {"shape": [8], "name": "p", "repeat": 0}},
                               {"Add": {"inputs": ["input", "p"]}}]}, "input 'p' is not the name of any layer"),
    ({"input": [8], "layers": [{"Dnse": {"units": 4, "repeat": 0}}]}, "unknown layer type 'Dnse'"),
])
def test_repeat_zero_errors(spec, message):
    with pytest.raises(learnable.LearnableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        learnable.count(spec)


def test_a_sweep_of_repeat_may_start_at_zero():
    spec = {"input": [8], "layers": [{"Dense": {"units": 8, "name": "hidden"}}, {"Dense": 2}]}
    totals = [v.report.total_params for v in learnable.sweep(spec, {"hidden.repeat": [0, 1, 2]})]
    assert totals == [8 * 2 + 2, (8 * 8 + 8) + 8 * 2 + 2, 2 * (8 * 8 + 8) + 8 * 2 + 2]
