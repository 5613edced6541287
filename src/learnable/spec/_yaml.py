"""Reading YAML safely: plain data only, within limits, with the line of each layer.

- The safe loader only: a tag such as ``!!python/object`` never constructs anything.
- Aliases may share a block, but a recursive alias or an "alias bomb" that expands to
  millions of nodes is refused before anything is built.
- Flow nesting deep enough to crash libyaml's composer is refused before parsing.
- Duplicate keys, which YAML silently resolves to the last, are an error.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Location, SpecError

MAX_NODES = 2_000_000  # after expanding aliases; a 100,000-layer spec has well under a million
MAX_DEPTH = 500  # nesting levels; a spec needs a handful
_BRACKETS = re.compile(r"[\[\]{}]")


def load_yaml(text: str, source: str | None) -> tuple[Any, dict[tuple[str, ...], list[int]]]:
    """The document as Python data, and the line of each item of its layer lists."""
    import yaml

    _check_flow_depth(text, source)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError("the spec is empty", Location(source))
        _check_nodes(node, source)
        return loader.construct_document(node), _layer_lines(node)
    except yaml.MarkedYAMLError as err:
        raise _yaml_error(err, source) from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow, e.g. a NUL
        raise _reader_error(err, text, source) from None
    except yaml.YAMLError as err:
        raise SpecError(f"YAML error: {err}", Location(source)) from None
    except ValueError:  # Python refuses to read integers of over 4,300 digits
        raise SpecError("a number in the spec is too long to be a size (over 4,300 digits)", Location(source)) from None
    except RecursionError:
        raise SpecError("the YAML is nested too deeply", Location(source)) from None
    finally:
        loader.dispose()


def _check_flow_depth(text: str, source: str | None) -> None:
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            raise SpecError(f"the YAML is nested more than {MAX_DEPTH} levels deep", Location(source, line))


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
    A scalar is one node with nothing inside: it is counted where it is met, never stacked
    (most of a spec's nodes are scalars; a 100,000-layer spec has half a million)."""
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
                raise SpecError(f"the YAML expands to more than {MAX_NODES:,} nodes through its aliases", _mark(node, source))
            continue
        if key in size:
            continue
        if key in on_path:
            raise SpecError("a YAML alias refers to a block that contains it", _mark(node, source))
        if depth > MAX_DEPTH:
            raise SpecError(f"the YAML is nested more than {MAX_DEPTH} levels deep", _mark(node, source))
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
                raise SpecError(f"duplicate key '{key.value}'", _mark(key, source))
            seen.add(key.value)


def _mark(node: Any, source: str | None) -> Location:
    return Location(source, node.start_mark.line + 1, node.start_mark.column + 1)


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
