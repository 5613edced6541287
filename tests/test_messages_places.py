"""Messages that name their place (issue 19): a name used twice, a block named like a layer
type, a merge of one implicit input, and a .pt that weights-only loading refuses. Each is one
line, written out here by hand."""

from __future__ import annotations

import argparse
import os

import pytest

import learnable

# ---- a name used twice ----------------------------------------------------------------------

TWICE = "input: [4]\nlayers:\n  - Dense: {units: 2, name: a}\n  - Dense: {units: 3, name: a}\n"


def error(source) -> str:
    with pytest.raises(learnable.LearnableError) as caught:
        learnable.count(source)
    return str(caught.value)


def test_a_name_used_twice_is_refused_at_its_second_use_naming_the_first():
    assert error(TWICE) == ("Dense 'a' (layer 2, line 4): layer name 'a' is already used by layer 1 (line 3); "
                            "names must be unique")


def test_a_name_used_twice_in_the_compact_form_names_both_places():
    assert error("Input(4) | Dense(2, name='a') | Dense(3, name='a')") == (
        "Dense 'a' (layer 3, line 1, column 33): layer name 'a' is already used by layer 2 (line 1, column 12); "
        "names must be unique")


@pytest.mark.parametrize("spec", ["input: [4]\nlayers:\n  - Dense: {units: 2, name: input}\n",
                                  "inputs: {input: [4]}\nlayers:\n  - Dense: {units: 2, name: input}\n"])
def test_a_layer_named_like_the_input_says_so_with_its_line(spec):
    assert error(spec) == ("Dense 'input' (layer 1, line 3): layer name 'input' is already used by an input of "
                           "the network (input: or inputs:); names must be unique")


def test_a_name_used_twice_inside_a_block_gives_its_path_and_lines():
    spec = ("input: [4]\nblocks:\n  b:\n    layers:\n      - Dense: {units: 2, name: d}\n"
            "      - Dense: {units: 2, name: d}\nlayers:\n  - b\n")
    # (a block's layers carry the number of the block's use, layer 1; their lines tell them apart)
    assert error(spec) == ("Dense 'd' (layer 1, line 6): layer name 'b/d' is already used by layer 1 (line 5); "
                           "names must be unique")


def test_distinct_names_still_count():
    report = learnable.count(TWICE.replace("name: a}\n", "name: b}\n", 1))
    assert report.total_params == (4 * 2 + 2) + (2 * 3 + 3)


# ---- a block named like a layer type ----------------------------------------------------------


def test_a_block_named_like_a_layer_type_is_refused_naming_it_and_its_lines():
    # Without the refusal the block silently replaced the layer: 4*2+2 = 10 counted where the
    # spec's Dense(3) is 4*3+3 = 15.
    spec = ("input: [4]\nblocks:\n  Dense:\n    layers:\n      - Dense: {units: 2}\nlayers:\n"
            "  - Dense: {units: 3}\n")
    assert error(spec) == ("block 'Dense' (its layers from line 5) has the name of the layer type Dense: it would "
                           "replace that layer wherever the spec uses it; rename the block (e.g. 'Dense_block')")


def test_a_block_named_like_a_pytorch_alias_is_refused_too():
    spec = {"input": [4], "blocks": {"nn.Linear": {"layers": [{"Dense": 2}]}}, "layers": [{"Dense": 2}]}
    assert error(spec).startswith("block 'nn.Linear' has the name of the layer type Linear:")


def test_a_block_named_like_a_type_in_other_letters_stays_a_block():
    # Only a type's own spelling is refused: 'attention' or 'conv2d' are names users give blocks.
    spec = ("input: [4]\nblocks:\n  conv2d:\n    layers:\n      - Dense: {units: 2}\nlayers:\n  - conv2d\n")
    assert learnable.count(spec).total_params == 4 * 2 + 2


# ---- a merge of one implicit input --------------------------------------------------------------


@pytest.mark.parametrize("merge", ["Add", "Multiply", "Concatenate", "Average", "Maximum", "Subtract"])
def test_a_merge_fed_only_by_the_layer_before_is_refused(merge):
    assert error(f"Input(10) | Dense(5) | {merge}()") == (
        f"{merge} '{merge.lower()}' (layer 3, line 1, column 24): a merge layer needs a list of inputs, not just "
        "the layer before it; give inputs: [...] (a list of one is allowed, as in Keras)")


def test_a_merge_given_a_list_of_one_counts_as_keras_allows():
    report = learnable.count("input: [10]\nlayers:\n  - Dense: 5\n  - Add: {inputs: [dense]}\n")
    assert [row.params for row in report.layers] == [0, 10 * 5 + 5, 0]


@pytest.mark.frameworks
def test_keras_refuses_a_bare_tensor_and_accepts_a_list_of_one():
    """The oracle for both tests above: Keras 3 itself."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    y = keras.layers.Dense(5)(keras.Input((10,)))
    with pytest.raises(ValueError, match="list of inputs"):
        keras.layers.Add()(y)
    assert tuple(keras.layers.Add()([y]).shape) == (None, 5)


# ---- a .pt that weights-only loading refuses ------------------------------------------------------


@pytest.mark.frameworks
def test_a_pickled_object_is_named_in_one_short_line_without_torchs_advice(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "args.pt"
    torch.save({"args": argparse.Namespace(lr=0.1), "weight": torch.zeros(2)}, path)
    message = error(str(path))
    assert message == (f"{path}: holds the Python object argparse.Namespace, which loading with weights_only=True "
                       "refuses; learnable never unpickles arbitrary objects (they can run code): save the tensors "
                       "alone (model.state_dict()) or as .safetensors")
    # torch's own text: 1,100 characters, ANSI bold, and advice to load with weights_only=False
    assert "\x1b" not in message and "weights_only=False" not in message and "False" not in message


@pytest.mark.frameworks
def test_a_builtin_function_is_named_too(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"f": print}, tmp_path / "f.pt")
    assert "holds the Python object print, which loading with weights_only=True refuses;" in error(
        str(tmp_path / "f.pt"))


def test_torchs_message_without_a_reason_is_still_one_line():
    # torch.load's text when its unpickler gives no reason (found by fuzz/fuzz_files.py)
    from learnable.importers._torch_file import load_error

    text = ("Weights only load failed. This file can still be loaded, to do so you have two options, "
            "\x1b[1mdo those steps only if you trust the source of the checkpoint\x1b[0m. \n\t(1) Re-running "
            "`torch.load` with `weights_only` set to `False` will likely succeed\n\tWeightsUnpickler error: \n\n")
    assert load_error(RuntimeError(text)) == (
        "holds data that loading with weights_only=True refuses; learnable never unpickles arbitrary objects "
        "(they can run code): save the tensors alone (model.state_dict()) or as .safetensors")
