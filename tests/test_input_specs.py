"""The inputs a model is traced with, as the user states them (learnable/inputs.py): every
form ``input_shape`` takes, and ``--input``'s text, end in the same specs; no framework needed."""

from __future__ import annotations

import re

import pytest

from learnable.errors import SpecError
from learnable.inputs import FLOAT, INT, InputSpec, input_specs, parse_input


@pytest.mark.parametrize("value, specs", [
    ((3, 224, 224), [InputSpec((3, 224, 224))]),
    (8, [InputSpec((8,))]),
    ("128:int", [InputSpec((128,), INT)]),
    ([(3, 32, 32), "10:int"], [InputSpec((3, 32, 32)), InputSpec((10,), INT)]),
    ({"input_ids": "128:int", "pixel_values": (3, 224, 224)},
     [InputSpec((128,), INT, "input_ids"), InputSpec((3, 224, 224), None, "pixel_values")]),
    (["decoder_input_ids=8:int", "80x3000:float"],  # positional first, then by keyword
     [InputSpec((80, 3000), FLOAT), InputSpec((8,), INT, "decoder_input_ids")]),
])
def test_every_form_of_input_shape(value, specs):
    assert input_specs(value) == specs


def test_integer_input_makes_the_unsaid_dtypes_integer():
    assert input_specs(["3x4", "5:float"], integer=True) == [InputSpec((3, 4), INT), InputSpec((5,), FLOAT)]


@pytest.mark.parametrize("value, message", [
    ("3x0", "input_shape must be sizes such as 3x224x224"),
    ("8:double", "after the sizes, write :int for token ids or :float"),
    ("input ids=8", "before '=' write the forward's argument name"),
    (["a=3", "a=4"], "the input 'a' is given twice"),
    ({"input_ids": "mask=8:int"}, "the input 'input_ids' is given as 'mask=8:int', which names 'mask'"),
    ([], "input_shape must be one example's shape"),
    ({"x": 2.5}, "input_shape must be one example's shape"),
])
def test_bad_input_specs_are_one_clear_error(value, message):
    with pytest.raises(SpecError, match=re.escape(message)) as caught:
        input_specs(value)
    assert "\n" not in str(caught.value)


def test_spec_text_round_trips():
    for text in ("3x224x224", "input_ids=128:int", "features=80x3000:float"):
        assert str(parse_input(text)) == text
