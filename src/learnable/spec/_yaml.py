"""Reading YAML safely: plain data only, within limits, with the line of each layer.

- The safe loader only: a tag such as ``!!python/object`` never constructs anything.
- Aliases may share a block, but a recursive alias or an "alias bomb" that expands to
  millions of nodes is refused before it is built.
- Flow nesting deep enough to crash libyaml's composer is refused before parsing.
- Duplicate keys, which YAML silently resolves to the last, are an error.

The data is built in one pass over libyaml's event stream (``_load_events``), which does
every check on the way and keeps no node tree: memory follows the data, and each distinct
scalar text (``Dense``, ``64``, ``units``) is resolved and constructed once, by PyYAML's own
resolver and SafeConstructor functions, so values are exactly PyYAML's. The rare documents
that need PyYAML's collection constructors (merge keys ``<<``, ``=`` keys, explicit tags on
collections such as ``!!set`` or ``!!omap``) or an alias where the layer lines are taken
are read again by the slower exact path (``_load_nodes``): compose the node tree, check
it, construct it.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from ..errors import Location, SpecError

MAX_NODES = 2_000_000  # after expanding aliases; a 100,000-layer spec has well under a million
MAX_DEPTH = 500  # nesting levels; a spec needs a handful
_BRACKETS = re.compile(r"[\[\]{}]")
_STEPS = {"[": 1, "{": 1, "]": -1, "}": -1}
_TAG = "tag:yaml.org,2002:"
# Scalar tags whose SafeConstructor function returns an immutable value from the text alone,
# so one value can serve every scalar with the same text.
_SCALAR_TAGS = frozenset(_TAG + name for name in ("null", "bool", "int", "float", "binary", "timestamp", "str"))
_NO_KEY = object()  # a mapping frame waiting for its next key
_MISSING = object()


class _SlowPath(Exception):
    """The document needs PyYAML's collection constructors: read it with ``_load_nodes``."""


def load_yaml(text: str, source: str | None) -> tuple[Any, dict[tuple[str, ...], list[int]]]:
    """The document as Python data, and the line of each item of its layer lists."""
    _check_surrogates(text, source)
    _check_flow_depth(text, source)
    try:
        return _guarded(_load_events, text, source)
    except _SlowPath:
        return _guarded(_load_nodes, text, source)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_surrogates(text: str, source: str | None) -> None:
    """A lone surrogate is no character: PyYAML's C reader cannot encode it (UnicodeEncodeError).
    Text from a file is decoded strictly, but a string given to the API, or an argument the
    shell decoded with surrogateescape (``--vary x=$'\\xff'``), may hold one."""
    found = _SURROGATE.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - text.rfind("\n", 0, found.start())
        raise SpecError(f"U+{ord(found.group()):04X} is a lone surrogate, not a character (undecodable bytes?); "
                        "remove it", Location(source, line, column))


def _guarded(load: Any, text: str, source: str | None) -> tuple[Any, dict[tuple[str, ...], list[int]]]:
    """Run one way of loading on a fresh loader, turning every YAML failure into a located SpecError."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        return load(loader, source)
    except yaml.MarkedYAMLError as err:
        raise _yaml_error(err, source) from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow, e.g. a NUL
        raise _reader_error(err, text, source) from None
    except yaml.YAMLError as err:
        raise SpecError(f"YAML error: {err}", Location(source)) from None
    except ValueError as err:
        if "limit" in str(err):  # Python refuses to read integers of over 4,300 digits
            raise SpecError("a number in the spec is too long to be a size (over 4,300 digits)",
                            Location(source)) from None
        raise SpecError(f"YAML error: {err}", Location(source)) from None
    except RecursionError:
        raise SpecError("the YAML is nested too deeply", Location(source)) from None
    finally:
        loader.dispose()


def _check_flow_depth(text: str, source: str | None) -> None:
    """Brackets counted in the raw text (quoted or not, as libyaml's composer would recurse on
    them). The running depth is computed at C speed first; only a text that goes too deep is
    walked again in Python to find the line."""
    steps = map(_STEPS.__getitem__, _BRACKETS.findall(text))
    if max(accumulate(steps), default=0) <= MAX_DEPTH:
        return
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            raise SpecError(f"the YAML is nested more than {MAX_DEPTH} levels deep", Location(source, line))


# ---------------------------------------------------------------------------------------------
# The fast path: one pass over the events.


def _load_events(loader: Any, source: str | None) -> tuple[Any, dict[tuple[str, ...], list[int]]]:
    """Build the data from the events with an explicit stack (documents may be 500 levels deep).

    The innermost open collection lives in local variables, the hot path for the scalars
    that make up most of a spec; its parents are saved on ``stack`` as tuples:
    (container, in_map, key, keytext, odd, lines, role, opened, since): ``opened`` is the
    start event of the collection, ``since`` the value of ``total`` before it.

    Duplicate keys are found by their text, as written: a key that is a string is its text,
    so the mapping itself tells whether that text came before; the texts of the other keys
    (numbers, booleans, null: few) are kept in ``odd``, None until there is one.

    One loop, not a function per kind of event: a call per event would cost about as much as
    everything else done here; the rare cases (anchors, aliases, tags, errors) are calls."""
    import yaml

    get_event = loader.get_event
    get_event()  # StreamStartEvent
    event = get_event()
    if event.__class__ is yaml.StreamEndEvent:
        raise SpecError("the spec is empty", Location(source))
    scalar_class, alias_class = yaml.ScalarEvent, yaml.AliasEvent
    mapping_start, sequence_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    ends = (mapping_end, sequence_end)
    memo: dict[tuple[Any, Any, str], Any] = {}  # (tag, implicit, text) -> value
    first_chars = _resolver_first_chars(loader)
    strings = {}.setdefault
    anchors: dict[str, list[Any]] = {}  # name -> [value, expanded size or None while open, mark, text]
    out_lines: dict[tuple[str, ...], list[int]] = {}
    stack: list[tuple[Any, ...]] = []
    root: list[Any] = []  # the document's node is appended to this holder
    container, in_map, key, keytext, odd, lines, role = root, False, _NO_KEY, None, None, None, "top"
    total = 0  # nodes so far with aliases expanded: the size the document is growing to
    opened, since = None, 0
    first_mark = loader.peek_event().start_mark  # the document's node, for the several-documents error
    while True:
        event = get_event()
        cls = event.__class__
        if cls is scalar_class:
            total += 1
            text = event.value
            if event.tag is None and text[:1] not in first_chars:
                # no implicit resolver starts with this character: a string, as written, and one
                # object for every repeat of it ("Dense", "units"), as memory follows the data
                value = strings(text, text)
            else:
                memo_key = (event.tag, event.implicit, text)
                value = memo.get(memo_key, _MISSING)
                if value is _MISSING:
                    value = memo[memo_key] = _scalar(loader, event, source)
            if event.anchor is not None:
                _define_anchor(anchors, event, value, 1, text)
            if lines is not None:
                lines.append(event.start_mark.line + 1)
            if not in_map:
                container.append(value)
            elif key is _NO_KEY:
                if text in container or (odd is not None and text in odd):
                    raise SpecError(f"duplicate key '{text}'", _at(event, source))
                if value.__class__ is not str:
                    odd = _add_odd(odd, text)
                key, keytext = value, text
            else:
                container[key] = value
                key = _NO_KEY
        elif cls is mapping_end or cls is sequence_end:
            size = total - since
            if size > MAX_NODES:
                raise SpecError(f"the YAML expands to more than {MAX_NODES:,} nodes through its aliases",
                                _at(opened, source))
            if opened.anchor is not None:
                anchors[opened.anchor][1] = size  # its aliases may now be used, and count this size
            container, in_map, key, keytext, odd, lines, role, opened, since = stack.pop()
        elif cls is mapping_start or cls is sequence_start:
            is_map = cls is mapping_start
            if event.tag is not None and event.tag != "!":
                _check_collection_tag(event, is_map)
            if in_map and key is _NO_KEY:  # a collection as a key: PyYAML cannot hash it
                raise yaml.constructor.ConstructorError(None, None, "found unhashable key", event.start_mark)
            new: Any = {} if is_map else []
            if event.anchor is not None:
                _define_anchor(anchors, event, new, None, None)
            if lines is not None:
                lines.append(event.start_mark.line + 1)
            if in_map:
                container[key] = new
                key = _NO_KEY
            else:
                container.append(new)
            child_role, child_lines = (None, None) if role is None else _child_role(role, keytext, is_map, out_lines)
            stack.append((container, in_map, key, keytext, odd, lines, role, opened, since))
            opened, since = event, total
            total += 1
            container, in_map, key, keytext, odd = new, is_map, _NO_KEY, None, None
            lines, role = child_lines, child_role
            if len(stack) >= MAX_DEPTH:
                _check_depth(loader, event, len(stack), ends, source)
        elif cls is alias_class:
            if role is not None and _alias_needs_tree(role, in_map and key is _NO_KEY, keytext):
                raise _SlowPath
            value, size, text, line = _alias(anchors, event, source)
            total += size
            if total > MAX_NODES:
                raise SpecError(f"the YAML expands to more than {MAX_NODES:,} nodes through its aliases",
                                _at(event, source))
            if lines is not None:
                lines.append(line)  # as the node tree gives it: the line of the anchored node
            if not in_map:
                container.append(value)
            elif key is _NO_KEY:
                odd = _check_alias_key(event, value, text, container, odd, source)
                key, keytext = value, text
            else:
                container[key] = value
                key = _NO_KEY
        elif cls is yaml.DocumentEndEvent:
            break
    _check_single_document(loader, first_mark)
    return root[0], out_lines


def _resolver_first_chars(loader: Any) -> Any:
    """The first characters of the scalars PyYAML's resolver may read as other than a string
    (digits, signs, "y", "n", "~", ...): any other untagged scalar is the string it shows.
    With a resolver for any first character, every scalar takes the memoized path."""
    resolvers = type(loader).yaml_implicit_resolvers
    if None in resolvers:
        return _EVERYTHING
    return frozenset(resolvers)


class _Everything:
    def __contains__(self, item: object) -> bool:
        return True


_EVERYTHING = _Everything()


def _scalar(loader: Any, event: Any, source: str | None) -> Any:
    """A scalar's value, resolved and constructed as PyYAML's SafeLoader does. Only called once
    per distinct (tag, implicit, text): the caller memoizes."""
    import yaml

    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    constructors = type(loader).yaml_constructors
    if tag not in _SCALAR_TAGS:
        if tag in constructors or tag in (_TAG + "merge", _TAG + "value"):
            raise _SlowPath  # a collection tag on a scalar, a merge key, a "=" key: PyYAML's own rules
        raise yaml.constructor.ConstructorError(
            None, None, f"could not determine a constructor for the tag {tag!r}", event.start_mark)
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return constructors[tag](loader, node)
    except ValueError as err:
        if "limit" in str(err):  # an integer of over 4,300 digits: load_yaml's own message
            raise
        raise _bad_value(event, tag, source) from None
    except (KeyError, IndexError, AttributeError, TypeError):  # e.g. "!!bool maybe", "!!timestamp x"
        raise _bad_value(event, tag, source) from None


def _bad_value(event: Any, tag: str, source: str | None) -> SpecError:
    name = tag[len(_TAG):] if tag.startswith(_TAG) else tag
    return SpecError(f"YAML error: '{event.value}' is not a valid {name}", _at(event, source))


def _check_collection_tag(event: Any, is_map: bool) -> None:
    """An explicit tag on a collection: the plain ``!!map`` / ``!!seq`` are what we build anyway;
    the other tags PyYAML knows (``!!set``, ``!!omap``, ``!!pairs``, ...) take the exact path;
    any other tag is refused, as PyYAML's safe loader refuses it."""
    import yaml

    if event.tag == _TAG + ("map" if is_map else "seq"):
        return
    if event.tag in yaml.SafeLoader.yaml_constructors:
        raise _SlowPath
    raise yaml.constructor.ConstructorError(
        None, None, f"could not determine a constructor for the tag {event.tag!r}", event.start_mark)


def _define_anchor(anchors: dict[str, list[Any]], event: Any, value: Any, size: int | None, text: str | None) -> None:
    """Remember an anchored node: its value (shared by its aliases), its expanded size (None
    while the collection is open), where it starts and, for a scalar, its text."""
    import yaml

    if event.anchor in anchors:  # refused by PyYAML's composers too, with this message
        raise yaml.composer.ComposerError("found duplicate anchor; first occurrence", anchors[event.anchor][2],
                                          "second occurrence", event.start_mark)
    anchors[event.anchor] = [value, size, event.start_mark, text]


def _alias(anchors: dict[str, list[Any]], event: Any, source: str | None) -> tuple[Any, int, Any, int]:
    """The anchored value, its expanded size, its text (scalars) and its line, for an alias."""
    import yaml

    entry = anchors.get(event.anchor)
    if entry is None:  # as libyaml's composer says it
        raise yaml.composer.ComposerError(None, None, "found undefined alias", event.start_mark)
    value, size, mark, text = entry
    if size is None:
        raise SpecError("a YAML alias refers to a block that contains it", _at(event, source))
    return value, size, text, mark.line + 1


def _alias_needs_tree(role: Any, is_key: bool, keytext: Any) -> bool:
    """An alias on the way to a layer list (a key there, the ``layers`` or ``blocks`` value, a
    block's body): the node tree says which lines its items have, so the exact path reads it."""
    if role == "top":  # the document itself is an alias: undefined, as _alias says
        return False
    if role == "root":
        return is_key or keytext in ("layers", "blocks")
    if role == "blocks":
        return True
    return is_key or keytext == "layers"  # role is ("body", name)


def _add_odd(odd: set[str] | None, text: str) -> set[str]:
    """Remember the text of a key that is not a string (see ``_load_events``)."""
    if odd is None:
        return {text}
    odd.add(text)
    return odd


def _check_alias_key(event: Any, value: Any, text: Any, mapping: dict[Any, Any], odd: set[str] | None,
                     source: str | None) -> set[str] | None:
    """An alias used as a key: a shared collection cannot be hashed; a shared scalar's text
    counts for duplicates as if it were written there. Returns the mapping's new ``odd``."""
    import yaml

    if isinstance(value, (list, dict)):
        raise yaml.constructor.ConstructorError(None, None, "found unhashable key", event.start_mark)
    if text in mapping or (odd is not None and text in odd):
        raise SpecError(f"duplicate key '{text}'", _at(event, source))
    return odd if value.__class__ is str else _add_odd(odd, text)


def _child_role(role: Any, keytext: Any, is_map: bool,
                out_lines: dict[tuple[str, ...], list[int]]) -> tuple[Any, list[int] | None]:
    """Where a new collection stands on the way to a layer list: the top mapping ("top"), its
    ``blocks`` mapping ("blocks"), a block's body (("body", name)), and the layer lists
    themselves, whose item lines are collected into ``out_lines``."""
    if role == "top":  # the holder of the document: its node is the top mapping
        return ("root" if is_map else None), None
    if role == "root":
        if keytext == "layers" and not is_map:
            return None, out_lines.setdefault(("layers",), [])
        return ("blocks" if keytext == "blocks" and is_map else None), None
    if role == "blocks":
        return (("body", keytext) if is_map and isinstance(keytext, str) else None), None
    if keytext == "layers" and not is_map:  # role is ("body", name)
        return None, out_lines.setdefault(("blocks", role[1], "layers"), [])
    return None, None


def _check_depth(loader: Any, event: Any, depth: int, ends: tuple[Any, ...], source: str | None) -> None:
    """A collection at depth MAX_DEPTH may not hold anything: its items would be one deeper."""
    if depth > MAX_DEPTH:
        raise SpecError(f"the YAML is nested more than {MAX_DEPTH} levels deep", _at(event, source))
    following = loader.peek_event()
    if following.__class__ not in ends:
        raise SpecError(f"the YAML is nested more than {MAX_DEPTH} levels deep", _at(following, source))


def _check_single_document(loader: Any, first_mark: Any) -> None:
    import yaml

    following = loader.get_event()
    if following.__class__ is not yaml.StreamEndEvent:  # as libyaml's get_single_node says it
        raise yaml.composer.ComposerError("expected a single document in the stream", first_mark,
                                          "but found another document", following.start_mark)


def _at(item: Any, source: str | None) -> Location:
    """Where an event or a node starts (both carry PyYAML's start mark, 0-based)."""
    return Location(source, item.start_mark.line + 1, item.start_mark.column + 1)


# ---------------------------------------------------------------------------------------------
# The exact path: compose the node tree, check it, construct it with PyYAML's constructor.


def _load_nodes(loader: Any, source: str | None) -> tuple[Any, dict[tuple[str, ...], list[int]]]:
    node = loader.get_single_node()
    if node is None:
        raise SpecError("the spec is empty", Location(source))
    _check_nodes(node, source)
    try:
        data = loader.construct_document(node)
    except (KeyError, IndexError, AttributeError, TypeError) as err:  # e.g. "!!bool maybe", "!!float ''"
        raise SpecError(f"YAML error: a value does not match its tag ({err!r})", Location(source)) from None
    return data, _layer_lines(node)


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_nodes(root: Any, source: str | None) -> None:
    """One pass over the distinct nodes (aliases share them): duplicate keys, recursive
    aliases, nesting depth, and the size the document would have with aliases expanded.
    A scalar is one node with nothing inside: it is counted where it is met, never stacked."""
    import yaml

    collections = (yaml.MappingNode, yaml.SequenceNode)
    size: dict[int, int] = {}  # collections only; a scalar's size is 1
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:  # iterative post-order: a deep document must not exhaust the Python stack
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            size[key] = 1 + sum(size.get(id(child), 1) for child in _children(node))
            if size[key] > MAX_NODES:
                raise SpecError(f"the YAML expands to more than {MAX_NODES:,} nodes through its aliases",
                                _at(node, source))
            continue
        if key in size:
            continue
        if key in on_path:
            raise SpecError("a YAML alias refers to a block that contains it", _at(node, source))
        if depth > MAX_DEPTH:
            raise SpecError(f"the YAML is nested more than {MAX_DEPTH} levels deep", _at(node, source))
        if not isinstance(node, collections):
            continue
        _check_duplicate_keys(node, source)
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node)
                     if depth + 1 > MAX_DEPTH or isinstance(child, collections))


def _check_duplicate_keys(node: Any, source: str | None) -> None:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return
    seen: set[str] = set()
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode):
            if key.value in seen:
                raise SpecError(f"duplicate key '{key.value}'", _at(key, source))
            seen.add(key.value)


def _yaml_error(err: Any, source: str | None) -> SpecError:
    import yaml

    mark = err.problem_mark or err.context_mark
    where = Location(source, mark.line + 1, mark.column + 1) if mark else Location(source)
    if isinstance(err, yaml.constructor.ConstructorError):
        if "constructor for the tag" in (err.problem or ""):
            return SpecError(
                f"YAML tag not allowed: {err.problem}; specs are plain data and learnable "
                "never constructs objects from them",
                where,
            )
        return SpecError(f"YAML error: {err.problem}", where)
    problem = err.problem or err.context
    context = err.context_mark
    if err.problem and err.context and context is not None and context is not mark:
        problem += f" ({err.context} at line {context.line + 1}, column {context.column + 1})"
    return SpecError(f"YAML syntax error: {problem}", where)


def _reader_error(err: Any, text: str, source: str | None) -> SpecError:
    """PyYAML's own text spans two lines; say it on one, at the character's line and column."""
    position = min(max(err.position, 0), len(text))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = ord(err.character) if isinstance(err.character, str) else err.character  # libyaml gives an int
    return SpecError(f"YAML does not allow the character U+{code:04X} ({err.reason}); remove it",
                     Location(source, line, column))


def _layer_lines(root: Any) -> dict[tuple[str, ...], list[int]]:
    """The line of each item of every layer list (``layers:``, and each block's), keyed by
    its path: ("layers",) or ("blocks", name, "layers")."""
    import yaml

    lines: dict[tuple[str, ...], list[int]] = {}
    top = _mapping(root)
    if isinstance(top.get("layers"), yaml.SequenceNode):
        lines[("layers",)] = [item.start_mark.line + 1 for item in top["layers"].value]
    for name, body in _mapping(top.get("blocks")).items():
        layers = _mapping(body).get("layers")
        if isinstance(layers, yaml.SequenceNode):
            lines[("blocks", name, "layers")] = [item.start_mark.line + 1 for item in layers.value]
    return lines


def _mapping(node: Any) -> dict[str, Any]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}
