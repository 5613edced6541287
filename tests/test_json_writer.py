"""The streamed JSON writer encodes a repeated layer once and fills in each row's own values
(render/formats.py): its text must be exactly what encoding each row whole gives."""

from __future__ import annotations

import json

import pytest

import learnable
from learnable._text import json_visible
from learnable.render.formats import json_chunks
from learnable.report import LayerRow, Report
from learnable.spec import zoo

MARKER_NAME = "\x00learnable:name\x00"  # the writer's own marker text, as a user's layer name

SPECS = {
    "repeats": {"input": [8], "layers": [{"Dense": {"units": 8, "repeat": 5}}, "ReLU", {"Dense": 8}, "ReLU"]},
    "shares": {"input": [6], "layers": [
        {"Dense": {"units": 6, "name": "a"}}, {"Dense": {"name": "b", "shares": "a"}},
        {"Dense": {"name": "c", "shares": "a"}}, {"Dense": 6}]},
    "hostile names": {"input": [4], "layers": [
        {"Dense": {"units": 4, "name": 'q"uote\\back'}}, {"Dense": {"units": 4, "name": MARKER_NAME}},
        {"Dense": {"units": 4, "name": "ünï\u2028cödé"}}, {"Add": {"inputs": [MARKER_NAME, 'q"uote\\back']}},
        {"Dense": {"units": 4, "name": "\x00learnable:block\x00"}}, {"Dense": 4}]},
    "blocks and fields": {
        "input": [32, 32, 3],
        "blocks": {"unit": {"params": {"f": 8}, "layers": [
            {"Conv2D": {"filters": "$f", "kernel_size": 3, "padding": "same"}}, "ReLU"]}},
        "layers": [{"unit": {"f": 8}}, {"unit": {"f": 8}}, {"unit": {"f": 16}}, {"MaxPooling2D": 2},
                   {"unit": {"f": 16}}, "GlobalAveragePooling2D", {"Dense": 10}]},
}


def layer_lines(report) -> list[str]:
    text = "".join(json_chunks(report))
    start = text.index('"layers": [\n') + len('"layers": [\n')
    body = text[start:text.index("\n  ]", start)]
    return [line.removeprefix("    ").removesuffix(",") for line in body.split("\n")]


def check(report) -> None:
    text = "".join(json_chunks(report))
    assert json.loads(text) == json.loads(json.dumps(report.to_dict()))
    # each row as json writes it, hidden characters (U+2028 here) as their \\uXXXX escapes
    assert layer_lines(report) == [json_visible(json.dumps(row.to_dict(), ensure_ascii=False))
                                   for row in report.layers]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_rows_are_encoded_as_whole_rows_are(name):
    check(learnable.count(SPECS[name]))


@pytest.mark.parametrize("name", zoo.names())
def test_every_zoo_model(name):
    check(learnable.count(f"zoo:{name}"))


def test_a_name_written_like_the_writers_marker_is_kept_as_written():
    report = learnable.count(SPECS["hostile names"])
    assert [json.loads(line)["name"] for line in layer_lines(report)][2] == MARKER_NAME


def test_a_row_holding_the_writers_marker_as_a_value_is_encoded_whole():
    # Only a whole string equal to a marker could be mistaken for one: a type from a model
    # file can be any text (an ONNX op type, say).
    marker_type = "\x00learnable:inputs\x00"
    rows = tuple(LayerRow(f"l{i}", marker_type, (4,), 20, 20, 0, "4×4 + 4 = 20", inputs=(f"l{i - 1}",) * bool(i))
                 for i in range(4))
    check(Report(layers=rows))
