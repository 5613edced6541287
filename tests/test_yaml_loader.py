"""The one-pass YAML loader (spec/_yaml.py) against PyYAML's own SafeLoader as an independent
oracle, its layer lines against hand-counted ones, and each of its guards."""

from __future__ import annotations

import datetime
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnable.errors import SpecError
from learnable.spec import _yaml
from learnable.spec._yaml import load_yaml


def pyyaml(text: str) -> tuple[str, object]:
    """What PyYAML's pure-Python SafeLoader makes of the text: ("ok", data) or ("error", exception).
    Where its scanner and libyaml's disagree on the syntax (a tab after a scalar, ...), libyaml
    is what learnable reads with, so its verdict counts, with PyYAML's constructors all the same."""
    pure, libyaml = _load_with(yaml.SafeLoader, text), _load_with(yaml.CSafeLoader, text)
    if pure[0] != libyaml[0] and any(isinstance(result[1], yaml.MarkedYAMLError) and
                                     not isinstance(result[1], yaml.constructor.ConstructorError)
                                     for result in (pure, libyaml)):
        return libyaml
    return pure


def _load_with(loader: type, text: str) -> tuple[str, object]:
    try:
        return "ok", yaml.load(text, Loader=loader)
    except Exception as err:  # noqa: BLE001 - any refusal counts: KeyError, ValueError, YAMLError...
        return "error", err


def ours(text: str) -> tuple[str, object]:
    try:
        return "ok", load_yaml(text, None)[0]
    except SpecError as err:  # anything else propagates and fails the test
        return "error", err


def same(a: object, b: object) -> bool:
    """Deep equality that also tells True from 1 and NaN from NaN, and keeps dict order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b  # type: ignore[arg-type]
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k1, k2) and same(v1, v2)  # type: ignore[union-attr]
                                        for (k1, v1), (k2, v2) in zip(a.items(), b.items()))  # type: ignore[union-attr]
    return a == b


def has_duplicate_key_texts(text: str) -> bool:
    """The intended difference from PyYAML: a mapping with two scalar keys of the same text.
    Composed by libyaml, which learnable reads with (its syntax differs a little from PyYAML's)."""
    stack, visited = [yaml.compose(text, Loader=yaml.CSafeLoader)], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.MappingNode):
            texts = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
            if len(texts) != len(set(texts)):
                return True
            stack += [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return False


def assert_like_pyyaml(text: str) -> None:
    expected, got = pyyaml(text), ours(text)
    if got[0] == "error" and "duplicate key" in str(got[1]):
        # one pass stops at the first error: the duplicate may come before a syntax error further on
        assert expected[0] == "error" or has_duplicate_key_texts(text), got[1]
        return
    if expected == ("ok", None) and got[0] == "error" and "the spec is empty" in str(got[1]):
        assert yaml.compose(text, Loader=yaml.CSafeLoader) is None  # no document at all
        return
    assert got[0] == expected[0], (text, expected, got)
    if got[0] == "ok":
        assert same(got[1], expected[1]), (text, expected[1], got[1])


DOCUMENTS = [
    # anchors and aliases
    "a: &x 1\nb: *x\n",
    "a: &x [1, 2]\nb: *x\nc: [*x, *x]\n",
    "a: &x {k: v}\nb: [*x, {c: *x}]\n",
    "&k a: *k\n",
    "a: &k x\n*k : 2\n",
    "a: &k x\n? *k\n: 2\nx: 3\n",
    "list: [&s one, *s, &t two, *t]\n",
    "a: &x 1\nb: &x 2\n",
    "a: *nope\n",
    "a: &x [1]\n? *x\n: 2\n",
    "a: &x {b: 1}\nc: {*x : 2}\n",
    "layers: &l [a, b]\nother: *l\n",
    "layers: [&d {Dense: 4}, *d]\n",
    "x: &e\ny: *e\n",
    # merge keys and "=" keys (the exact path)
    "base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  c: 3\n",
    "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n  x: 9\n",
    "a: &a {x: 1}\nc: {x: 9, <<: *a}\n",
    "<<: {a: 1}\nb: 2\n",
    "a: {<<: [1]}\n",
    "a: <<\n",
    "=: 1\n",
    "a: =\n",
    "a: {=: 2, b: 3}\n",
    # explicit tags
    "!!str 5\n", "a: !!int '3'\n", "a: !!float '1'\n", "a: !!bool 'yes'\n", "a: !!null ''\n",
    "a: !!str\n", "a: ! 12\n", "a: !!str &x 5\nb: *x\n",
    "!!map {a: 1}\n", "!!seq [1, 2]\n", "a: !!map {b: 1}\nc: !!seq [d]\n",
    "!!set {a, b}\n", "s: !!set {1, 2}\n", "!!omap [a: 1, b: 2]\n", "p: !!pairs [a: 1, a: 2]\n",
    "a: !!binary aGVsbG8=\n", "a: !!binary |\n  aGVs\n  bG8=\n", "a: !!binary '!!!'\n",
    "a: !!timestamp 2001-12-14\n", "a: !!timestamp nope\n",
    "a: !!python/object:os.system x\n", "a: !!python/object/apply:os.system ['true']\n",
    "a: !!python/name:os.system\n", "a: !foo bar\n", "a: !foo {b: 1}\n", "!foo [1]\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!foo 1\n",
    "!!map [1]\n", "!!seq {a: 1}\n", "!!str [1]\n", "a: !!map x\n", "a: !!set x\n",
    "a: !!bool maybe\n", "a: !!int abc\n", "a: !!float ''\n", "a: !!int ''\n", "a: !!int 0x\n",
    "a: !!float abc\n",
    # YAML 1.1 scalars
    "[yes, no, on, off, y, n, Y, N, True, FALSE, TRUE, Yes, NO]\n",
    "[017, 0o17, 0x1F, 0b101, 1_000, -0x_1F, 190:20:30, -1:30, 0, -0, +12, 08, 09]\n",
    "[1.5e3, 1e3, 1.0e+3, 6.8523015e+5, 685.230_15e+03, 685_230.15, 190:20:30.15, -.5, 5.]\n",
    "[.inf, -.Inf, +.INF, .nan, .NaN, .NAN, .Nan]\n",
    "[2001-12-14t21:59:43.10-05:00, 2001-12-14 21:59:43.10 -5, 2002-12-14, 2001-12-15T02:59:43.1Z]\n",
    "a: 2001-13-45\n",
    "big: 12345678901234567890123456789\n",
    "long: " + "9" * 5_000 + "\n",
    "[~, null, Null, NULL, '', \"\", nul]\n",
    "a:\nb: ''\nc: ~\n",
    "[\"64\", '64', 64, \"yes\", yes, '~', ~, \"1.5\", 1.5, '0x1F', 0x1F]\n",
    # structure and styles
    "a: {b: [1, {c: d}], e: [[], {}]}\nf:\n  - g\n  - - h\n    - i\n  - j: k\n    l: m\n",
    "- [a, b]\n- {c: d}\n- - e\n  - f: g\n",
    "[]\n", "{}\n", "x\n", "'x'\n", "42\n", "~\n", "---\n", "--- |\n  text\n",
    "a: |\n  x\n  y\n", "a: >\n  x\n  y\n", "a: |-\n  x\n", "a: >+\n  x\n\n", "a: b\n  c\n  d\n",
    "a: \"one\\\n  two\"\n", "a: 'it''s'\n",
    "1: a\n2.5: b\ntrue: c\n~: d\n2001-12-14: e\n", "1: a\n01: b\n", "1: a\n'1': b\n",
    "? a\n: b\n? [c]\n: d\n", "[1]: a\n", "{a: 1}: b\n", ".nan: 1\n",
    "名前: 値\nemoji: \"\\u263A \\U0001F600\"\né: ü\n",
    "a: 1\nb:\n  c: 1\n  c: 2\n", "a: 1\na: 2\n", "{a: 1, a: 2}\n",
    # several documents, empty ones, syntax errors
    "a: 1\n---\nb: 2\n", "---\na: 1\n...\n---\nb: 2\n", "", "# only a comment\n", "---\n...\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: [1, 2\n", "a: b: c\n", "\tx: 1\n", "a: 'x\n", "a:\n  - b\n c: d\n", "]\n", "a: *\n", "&a\n",
    "a: \x00\n", "- a\nb: c\n", "a: 1\n  b: 2\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_documents_read_as_pyyaml_reads_them(text):
    assert_like_pyyaml(text)


def test_the_intended_differences():
    assert "duplicate key 'a'" in str(ours("a: 1\na: 2\n")[1])
    assert "duplicate key '1'" in str(ours("1: a\n'1': b\n")[1])  # the texts are compared, as before
    assert ours("1: a\n01: b\n") == ("ok", {1: "b"})  # different texts, one value: the last wins, as in PyYAML
    assert "the spec is empty" in str(ours("")[1])
    assert "contains it" in str(ours("x: &a [*a]\n")[1])  # PyYAML would build a recursive list


# Random data, dumped by PyYAML in flow and block styles, with anchors where a sub-object is shared.
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_keys = st.one_of(_text, st.integers(-1000, 10**20), st.booleans(), st.none(), st.floats(allow_nan=False, width=32))
_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), _text, st.binary(max_size=8),
    st.dates(), st.datetimes(min_value=datetime.datetime(1900, 1, 1)),
    st.sampled_from(["yes", "No", "on", "0x1F", "017", "1_000", "1:30", ".inf", "~", "", "<<", "=", "64", "1e3"]),
)
_data = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
                     max_leaves=25)


@st.composite
def _shared(draw):
    """A structure in which sub-objects appear several times, so safe_dump writes anchors."""
    parts = draw(st.lists(_data, min_size=1, max_size=3))
    picks = draw(st.lists(st.integers(0, len(parts) - 1), max_size=6))
    return {"layers": [parts[i] for i in picks], "rest": parts, "x": draw(_data)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(_data, _shared()), flow=st.booleans())
def test_random_data_reads_as_pyyaml_reads_it(data, flow):
    text = yaml.safe_dump(data, default_flow_style=flow, sort_keys=False, allow_unicode=True)
    assert_like_pyyaml(text)
    fast_and_exact_agree(text)


# Random text from YAML's own pieces: mostly malformed, so mostly refusals, which must all be SpecErrors.
_PIECES = ["a", "b", "1", "0x1", "yes", "~", ".nan", ": ", ":", "- ", "-", "[", "]", "{", "}", ", ", "&x ", "*x",
           "&y ", "*y", "!!str ", "!!int ", "!!set ", "!!map ", "!!seq ", "!!omap ", "!foo ", "? ", "|\n", ">\n", "'",
           '"', "#c", "\n", "  ", " ", "<<", "=", "---\n", "...\n", "layers", "blocks", "2001-12-14", "1:30",
           "!!binary ", "!!python/object:x ", "\t"]


@settings(max_examples=500, deadline=None)
@given(pieces=st.lists(st.sampled_from(_PIECES), max_size=30))
def test_random_pieces_read_as_pyyaml_reads_them(pieces):
    text = "".join(pieces)
    assert_like_pyyaml(text)
    fast_and_exact_agree(text)


def fast_and_exact_agree(text: str) -> None:
    """Unless the document needs the exact path anyway, both paths give the same data and lines."""
    try:
        fast = _yaml._guarded(_yaml._load_events, text, None)
    except (_yaml._SlowPath, SpecError):
        return
    exact = _yaml._guarded(_yaml._load_nodes, text, None)
    assert same(fast[0], exact[0]) and fast[1] == exact[1]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_both_paths_agree(text):
    fast_and_exact_agree(text)


# Errors both paths report alike: same message, same place.
SAME_ERRORS = [
    "a: *nope\n", "a: &x 1\nb: &x 2\n", "a: !!python/object:os.system x\n", "a: !foo {b: 1}\n",
    "a: 1\n---\nb: 2\n", "a: [1, 2\n", "a: b: c\n", "\tx: 1\n", "a: \x00\n", "? [a]\n: 1\n",
    "a: 1\nb:\n  c: 1\n  c: 2\n", "", "long: " + "9" * 5_000 + "\n",
]


@pytest.mark.parametrize("text", SAME_ERRORS)
def test_errors_as_before(text):
    with pytest.raises(SpecError) as fast:
        _yaml._guarded(_yaml._load_events, text, "f.yaml")
    with pytest.raises(SpecError) as exact:
        _yaml._guarded(_yaml._load_nodes, text, "f.yaml")
    assert str(fast.value) == str(exact.value)


LINES_SPEC = """\
# a spec with comments and blank lines
name: lines
input: [8]

blocks:
  res:
    input: [8]
    layers:
      - Dense: 8
      # a comment between layers

      - {ReLU: {}}
  flat:
    layers: [Dense(4),
      ReLU, Flatten]
  "quoted": {layers: [A]}
layers:
  - res

  -   Dense: 4
  # comment
  - [a, b]
  - "quoted"
  - &x Flatten
  - *x
  - ? k
    : v
"""


def test_layer_lines_are_the_hand_counted_ones():
    data, lines = load_yaml(LINES_SPEC, "s.yaml")
    assert lines == {
        ("blocks", "res", "layers"): [9, 12],
        ("blocks", "flat", "layers"): [14, 15, 15],
        ("blocks", "quoted", "layers"): [16],
        ("layers",): [18, 20, 22, 23, 24, 24, 26],  # an alias has its anchor's line, as the node tree says
    }
    assert len(data["layers"]) == 7 and data["layers"][4] == data["layers"][5] == "Flatten"


@pytest.mark.parametrize("text, expected", [
    ("layers: [a, b]\n", {("layers",): [1, 1]}),
    ("[a]\n", {}), ("x\n", {}), ("layers: {a: 1}\n", {}), ("blocks: [a]\n", {}), ("blocks: {b: [x]}\n", {}),
    ("x: {layers: [a]}\n", {}),
    ("blocks:\n  b: {x: [a], layers: []}\nlayers:\n- a\n", {("blocks", "b", "layers"): [], ("layers",): [4]}),
    ("1: {}\nblocks: {2: {layers: [a]}}\n", {("blocks", "2", "layers"): [2]}),
])
def test_layer_lines_only_where_layers_are(text, expected):
    assert load_yaml(text, None)[1] == expected


@pytest.mark.parametrize("text", [
    "l: &l [a, b]\nlayers: *l\n",
    "b: &b {layers: [a]}\nblocks: {one: *b, two: {layers: [c]}}\nlayers: [x]\n",
    "l: &l\n  - a\n  - b\nblocks:\n  one:\n    layers: *l\n",
    "k: &k layers\n*k : [a, b]\n",
    "base: &b {layers: [a]}\nblocks:\n  one:\n    <<: *b\n",
])
def test_aliased_layer_lists_take_the_exact_path(text, monkeypatch):
    calls = []
    exact = _yaml._load_nodes
    monkeypatch.setattr(_yaml, "_load_nodes", lambda *args: calls.append(1) or exact(*args))
    data, lines = load_yaml(text, None)
    assert calls and (data, lines) == _yaml._guarded(exact, text, None)
    assert lines  # the aliased list's items have the lines of its definition


@pytest.mark.parametrize("text, slow", [
    ("input: [3]\nlayers: [Dense(4), {Dense: {units: 4}}]\n", False),
    ("a: &a [1]\nlayers: [*a, *a]\n", False),
    ("a: !!str 5\nb: !!map {c: !!seq [1]}\n", False),
    ("a: &a {x: 1}\nb: {<<: *a}\n", True),
    ("a: !!set {x}\n", True),
    ("a: !!omap [x: 1]\n", True),
    ("=: 1\n", True),
])
def test_which_documents_take_the_exact_path(text, slow, monkeypatch):
    calls = []
    exact = _yaml._load_nodes
    monkeypatch.setattr(_yaml, "_load_nodes", lambda *args: calls.append(1) or exact(*args))
    load_yaml(text, None)
    assert bool(calls) == slow


def error(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_yaml(text, "g.yaml")
    return caught.value


def test_recursive_alias_at_its_line():
    err = error("input: [3]\nx: &a\n  - 1\n  - *a\n")
    assert "alias refers to a block that contains it" in str(err) and err.location.line == 4


def billion_laughs(levels: int = 9) -> str:
    names = "abcdefghijklmnop"[:levels]
    text = f"{names[0]}: &{names[0]} [{', '.join(['lol'] * 9)}]\n"
    for previous, name in zip(names, names[1:]):
        text += f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
    return text


def test_billion_laughs_refused_at_the_alias_that_passes_the_limit():
    # Refused as the size is counted, never expanded (9^9 lols would not fit in memory):
    # a..f expand to about 670,000 nodes; g's third alias of f passes 2,000,000
    err = error(billion_laughs())
    assert "expands to more than 2,000,000 nodes" in str(err) and (err.location.line, err.location.column) == (7, 16)


def test_big_but_bounded_aliases_are_fine():
    data = load_yaml(billion_laughs(5), None)[0]  # 66,430 nodes expanded
    assert data["e"][8][8][8][8] == ["lol"] * 9 and data["e"][0] is data["e"][1]  # shared, as PyYAML shares


def test_a_document_large_without_aliases_is_refused_too(monkeypatch):
    monkeypatch.setattr(_yaml, "MAX_NODES", 100)
    err = error("a: 1\nb:\n" + "".join(f"  - {i}\n" for i in range(150)))
    assert "expands to more than 100 nodes" in str(err) and err.location.line == 3


def nested_mappings(levels: int) -> str:
    return "".join(" " * i + "k:\n" for i in range(levels))


def test_depth_limit_at_the_line():
    assert load_yaml(nested_mappings(499), None)[0] is not None  # keys of the 499th mapping are 500 deep
    err = error(nested_mappings(500))
    assert "nested more than 500 levels deep" in str(err) and err.location.line == 500
    err = error("".join(" " * i + "-\n" for i in range(600)))  # block sequences: no brackets to pre-check
    assert "nested more than 500 levels deep" in str(err) and err.location.line == 501
    err = error("a: " + "[" * 501 + "]" * 501 + "\n")  # flow: refused by the text pre-check
    assert "nested more than 500 levels deep" in str(err) and err.location.line == 1


def test_empty_collections_at_the_depth_limit_are_fine():
    text = "".join(" " * i + "-\n" for i in range(498)) + " " * 498 + "- []\n"  # the [] is 500 deep
    data = load_yaml(text, None)[0]
    for _ in range(499):
        data = data[0]
    assert data == []


def test_duplicate_key_at_its_line_and_column():
    err = error("input: [3]\nlayers:\n  - Dense: {units: 3, units: 4}\n")
    assert str(err).endswith("duplicate key 'units'") and (err.location.line, err.location.column) == (3, 23)
    err = error("a: &k x\nb: 1\n*k : 2\nx: 3\n")  # an aliased key counts with its anchor's text
    assert "duplicate key 'x'" in str(err) and err.location.line == 4


@pytest.mark.parametrize("text, line", [
    ("input: [3]\nlayers:\n  - !!python/object/apply:os.system ['echo hi']\n", 3),
    ("a: 1\nb: !!python/object:builtins.dict {x: 1}\n", 2),
    ("a: 1\n\nb: [!!python/name:os.system ]\n", 3),
    ("a: !custom\n", 1),
])
def test_python_tags_refused_at_their_line(text, line):
    err = error(text)
    assert "YAML tag not allowed: could not determine a constructor for the tag" in str(err)
    assert "specs are plain data" in str(err) and err.location.line == line


def test_other_refusals_are_located():
    err = error("a: 1\nb: *nope\n")
    assert "YAML syntax error: found undefined alias" in str(err) and err.location.line == 2
    err = error("a: 1\n---\nb: 2\n")
    assert "but found another document" in str(err) and err.location.line == 2
    err = error("a: 1\n? [x]\n: 2\n")
    assert "found unhashable key" in str(err) and err.location.line == 2
    err = error("a: 1\nb: !!bool maybe\n")
    assert "'maybe' is not a valid bool" in str(err) and err.location.line == 2
    err = error("a: 1\nb: 2001-13-45\n")
    assert "is not a valid timestamp" in str(err) and err.location.line == 2
