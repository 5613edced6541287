"""Which layers each claim row is about.

In this order, each row by itself:

- the model's name, whole (``ResNet-50`` for a report named resnet50; ``ResNet-50 + SE`` is
  another network): the model's totals;
- a layer's name: exactly as written, else case, separators and decorations aside (``Conv_2
  + ReLU`` → ``conv_2``, ``conv2d (Conv2D)`` → ``conv2d``);
- a block's name: every layer inside that use of the block;
- a stage or a prefix of layer names (``conv2_x`` → ``conv2_block1_1_conv``, ...; ``conv1`` →
  ``conv1_conv`` + ``conv1_bn``; ``inception (3a)``; ``fire2``; a module path): every layer
  under it, at a name boundary (``conv1`` is not ``conv10``).

Then, in the table's order: a name a summary cut short with ``…`` is the likeliest of the next
layers it begins (or the run of them its count adds up to: a nested model's row), and a
nested model's row (``└ conv1_conv``) the next layer whose path ends with it.

Then, unless the table is one of networks (a row names the model and no other row names a
layer), the rows left, between two rows matched by name, in order with the layers left
between those rows' layers: the layers with parameters (and, when the table also lists
layers without, those too). A row naming its layer type (torchsummary's ``Conv2d-1``,
torchinfo's ``Conv2d: 1-1``, a Keras row's ``(Conv2D)``) pairs with the likeliest of the next
few layers of that type; a row naming no layer type that learnable has (a container
torchinfo cut at its depth) takes the next layers whose sum is its count, if any. A stage
row (``conv3_x``) that matched nothing is never paired with a single layer.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

from ..report import BlockRow, LayerRow, Report
from .result import Claim, Target

_WINDOW = 8  # how far ahead a summary row may pair, past layers another tool lists later
_SUM_SCAN = 1024  # layers a container row's run may cover (torchinfo cuts at depth 3: far fewer)
_SUM_MISSES = 256  # container rows in a row that no run adds up to: then no more runs are tried
_STAGE = re.compile(r"[\s_\-]?x$", re.IGNORECASE)  # conv2_x, conv2 x
_KERAS_TYPED = re.compile(r"\((?P<type>[A-Z][A-Za-z0-9]{2,})…?\)\s*$")  # conv2d (Conv2D); not "VGG 16 (D)"
_TYPED = re.compile(r"^[\s│├└─┃]*(?P<type>[A-Za-z][\w.]*?)(?:-\d+|:\s*\d+-\d+)\s*$")  # Conv2d-1, ├─Conv2d: 1-1


def normalise(name: str) -> str:
    """``Conv_2`` → ``conv2``: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def undecorated(name: str) -> str:
    """``Conv_2 + ReLU`` → ``Conv_2``; ``FC_2 (Output)`` → ``FC_2``; ``bn (BatchNormalizatio…``
    (a type a summary cut short) → ``bn``."""
    name = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", name)
    name = re.sub(r"\s\([^)]*$", " ", name)
    return re.split(r"\+|→|->|\bwith\b", name)[0]


def typed(name: str) -> str | None:
    """The layer type a summary row names (``Conv2d-1`` → ``Conv2d``), if it names one."""
    match = _TYPED.match(name)
    return match["type"] if match else None


def stated_type(name: str) -> str | None:
    """The type a row states, as a summary prints it: ``Conv2d-1``, ``├─Conv2d: 1-1``, or
    Keras's ``conv2d (Conv2D)``."""
    match = _TYPED.match(name) or _KERAS_TYPED.search(name)
    return match["type"] if match else None


def _kind(claim: Claim, types: set[str]) -> str:
    """The normalised type a row pairs by: a summary's, or a Keras row's that the report has."""
    if typed(claim.name):
        return normalise(typed(claim.name))
    keras = _KERAS_TYPED.search(claim.name)
    return normalise(keras["type"]) if keras and normalise(keras["type"]) in types else ""


class _Names:
    """The report's names, indexed once: by normalised name, by block, and by every proper
    prefix at a name boundary, so matching N rows to L layers is not N × L work."""

    def __init__(self, report: Report, row: str | None = None) -> None:
        self.report = report
        self.model = {normalise(name) for name in (report.name, row) if name}
        self.exact = {layer.name: layer for layer in reversed(report.layers)}
        self.layers: dict[str, LayerRow] = {}
        self.prefixes: dict[str, list[LayerRow]] = {}
        for layer in report.layers:
            self.layers.setdefault(normalise(layer.name), layer)
            parts = [normalise(p) for p in re.split(r"[^0-9A-Za-z]+", layer.name) if p]
            for key in {"".join(parts[:k]) for k in range(1, len(parts))}:
                self.prefixes.setdefault(key, []).append(layer)
        self.tails: dict[str, list[int]] = {}  # the last part of a path: resnet50/conv1_conv → conv1conv
        for j, layer in enumerate(report.layers):
            tail = re.split(r"[/.]", layer.name)[-1]
            if tail != layer.name:
                self.tails.setdefault(normalise(tail), []).append(j)
        self.blocks: dict[str, BlockRow] = {}
        for block in report.blocks:
            self.blocks.setdefault(normalise(block.name), block)
            self.blocks.setdefault(normalise(block.name.rsplit("/", 1)[-1]), block)


def match_claims(report: Report, claims: Sequence[Claim], row: str | None = None) -> list[Target | None]:
    """For each claim row: what it was matched to, or None. ``row`` names the row that is this
    network, in a table of networks that names it otherwise (ResNet-50 for resnet50_torch)."""
    names = _Names(report, row)
    found = [_by_name(names, claim) for claim in claims]
    if networks_table(claims, found):
        return found  # its other rows are about other networks, not layers
    taken = {id(layer) for target in found if target and target.how != "model" for layer in target.layers}
    _cut_short(report, claims, found, taken)
    _nested(names, claims, found, taken)
    index = {id(layer): j for j, layer in enumerate(report.layers)}
    segment: list[int] = []
    low = -1
    for i in range(len(claims) + 1):
        if i < len(claims):
            if found[i] is None:
                segment.append(i)
            if found[i] is None or found[i].how != "name":  # a block, a stage, the model: no anchor
                continue
            high = index[id(found[i].layers[0])]
        else:
            high = len(report.layers)
        span = [j for j in range(low + 1, high) if id(report.layers[j]) not in taken]
        for k, target in _by_order(report.layers, [claims[c] for c in segment], span):
            found[segment[k]] = target
            taken.update(id(layer) for layer in target.layers)
        segment, low = [], max(low, high)
    return found


def networks_table(claims: Sequence[Claim], found: Sequence[Target | None]) -> bool:
    """A table of networks: one row names this model, and no other names a layer or a type."""
    if not any(target is not None and target.how == "model" for target in found):
        return False
    return all(target is None and not _layer_type(typed(claim.name))
               for claim, target in zip(claims, found, strict=True) if target is None or target.how != "model")


def _layer_type(name: str | None) -> bool:
    """Whether a summary row's type is a layer type learnable knows (``Conv2d-1``), not a
    network's name that reads alike (``ResNet-34``)."""
    from ..rules._registry import frameworks_of

    return bool(name) and bool(frameworks_of(name))  # (not "nn." + name: a prefix alone makes any name torch's)
    from ..errors import LearnableError
    from ..rules import lookup

    for candidate in (name, f"nn.{name}"):
        try:
            lookup(candidate)
            return True
        except LearnableError:
            pass
    return False


def _nested(names: _Names, claims: Sequence[Claim], found: list[Target | None], taken: set[int]) -> None:
    """Rows a summary prints inside a nested model (Keras's ``expand_nested``: ``└ conv1_conv``)
    whose layers the report names by path (``resnet50/conv1_conv``): each is the next layer
    whose last name part it is."""
    # A nested model's own row took all its layers as a block: its rows may still name them one by one.
    single = {id(t.layers[0]) for t in found if t is not None and t.how == "name"}
    last = 0
    for i, claim in enumerate(claims):
        if found[i] is not None:
            continue
        under = [j for j in names.tails.get(normalise(undecorated(claim.name)), ()) if id(names.report.layers[j])
                 not in single]
        if under:
            j = next((j for j in under if j >= last), under[0])
            found[i] = _one(names.report.layers[j], "name")
            taken.add(id(names.report.layers[j]))
            single.add(id(names.report.layers[j]))
            last = j


def _cut_short(report: Report, claims: Sequence[Claim], found: list[Target | None], taken: set[int]) -> None:
    """Names a summary cut short (``expanded_conv_dept…``): each is, among the next few layers
    not yet matched whose names it begins, the likeliest (its type, count and output as
    claimed), or the run of them its count adds up to (a nested model's row)."""
    layers, last = report.layers, 0
    for i, claim in enumerate(claims):
        written = undecorated(claim.name).strip()
        if found[i] is not None or not written.endswith("…"):
            continue
        key = normalise(written)
        ahead = [j for j in range(max(0, last - _WINDOW), len(layers))
                 if id(layers[j]) not in taken and normalise(layers[j].name).startswith(key)][:4 * _WINDOW]
        if not ahead:
            continue
        kind = re.search(r"\(([^()]*)\)?\s*$", claim.name.strip())
        run = _fitting(layers, ahead, claim, normalise(kind[1]) if kind else "")
        found[i] = _one(layers[run[0]], "name") if len(run) == 1 else Target(
            f"{layers[run[0]].name} … {layers[run[-1]].name} ({len(run)} layers)", "prefix",
            tuple(layers[j] for j in run), "", layers[run[-1]].output_shape)
        taken.update(id(layers[j]) for j in run)
        last = max(last, run[-1])


def _fitting(layers: Sequence[LayerRow], ahead: list[int], claim: Claim, kind: str) -> list[int]:
    """The layer of ``ahead`` with the claimed type and count, else a run adding up to the
    count, else the likeliest by count and output."""
    typed_alike = [j for j in ahead if kind and normalise(layers[j].type).startswith(kind)]
    if typed_alike:
        return [_likeliest(layers, typed_alike, claim)]
    if claim.claimed:
        run = _summing(layers, ahead, claim.claimed)
        if run:
            return run
    return [_likeliest(layers, ahead, claim)]


def _by_name(names: _Names, claim: Claim) -> Target | None:
    report = names.report
    full, short = normalise(claim.name), normalise(undecorated(claim.name))
    if not short and not full:
        return None
    whole = normalise(re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", claim.name))  # "ResNet-50 + SE" is not ResNet-50
    if names.model & {full, whole}:
        return Target("(the model)", "model", report.layers, "model", report.layers[-1].output_shape
                      if report.layers else None)
    written = undecorated(claim.name).strip()
    if written.endswith("…"):  # cut short by a summary: matched in order among the layers it begins
        return None
    layer = names.exact.get(claim.name.strip()) or names.exact.get(written) or names.layers.get(full) \
        or names.layers.get(short)
    if layer is not None:
        return _one(layer, "name")
    stage = normalise(_STAGE.sub("", undecorated(claim.name).strip()))
    for key in (full, short, stage):
        if key and key in names.blocks:
            target = _block(report, names.blocks[key])
            if target is not None:
                return target
    return _prefix(names, stage or short)


def _one(layer: LayerRow, how: str) -> Target:
    return Target(layer.name, how, (layer,), layer.type, layer.output_shape)


def _block(report: Report, block: BlockRow) -> Target | None:
    inside = _inside(report, block)
    if not inside:
        return None
    return Target(f"{block.name} ({len(inside)} layers)", "block", inside, block.type, block.output_shape)


def _inside(report: Report, block: BlockRow) -> tuple[LayerRow, ...]:
    parents = {b.name: b.parent for b in report.blocks}

    def within(name: str | None) -> bool:
        while name is not None:
            if name == block.name:
                return True
            name = parents.get(name)
        return False

    return tuple(layer for layer in report.layers if within(layer.block))


def _prefix(names: _Names, key: str) -> Target | None:
    """The layers whose names begin with ``key`` at a boundary: ``conv2`` → ``conv2_...``."""
    under = tuple(names.prefixes.get(key, ()))
    if not under:
        return None
    label = under[0].name if len(under) == 1 else f"{under[0].name} … {under[-1].name} ({len(under)} layers)"
    return Target(label, "prefix", under, "", under[-1].output_shape)


def _by_order(layers: Sequence[LayerRow], claims: list[Claim], span: list[int]) -> list[tuple[int, Target]]:
    if not claims or not span:
        return []
    types = {normalise(layers[j].type) for j in span}
    if any(_kind(c, types) for c in claims):
        return _by_type(layers, claims, span)
    free = [(k, c) for k, c in enumerate(claims) if not _STAGE.search(undecorated(c.name).strip())]
    with_params = [j for j in span if layers[j].params]
    nonzero = [(k, c) for k, c in free if c.claimed != 0]
    if len(free) == len(with_params) or len(nonzero) != len(with_params):
        return [(k, _one(layers[j], "order")) for (k, _), j in zip(free, with_params, strict=False)]
    pairs, cursor = [], 0
    for k, claim in free:  # the table lists layers without parameters too: pair zeros with them
        p = next((p for p in range(cursor, len(span)) if bool(layers[span[p]].params) == bool(claim.claimed)), None)
        if p is not None:
            pairs.append((k, _one(layers[span[p]], "order")))
            cursor = p + 1
    return pairs


def _by_type(layers: Sequence[LayerRow], claims: list[Claim], span: list[int]) -> list[tuple[int, Target]]:
    """Summary rows (``Conv2d-1``): each with a next layer of its type, or a run of layers
    whose parameters add up to a container's count. Tools list parallel branches in their
    own order (a shortcut before or after the residual path), so among the next few layers
    of the type the one with the claimed count and output is preferred."""
    by_type: dict[str, list[int]] = {}  # each type's positions in the span, in order
    for p, j in enumerate(span):
        by_type.setdefault(normalise(layers[j].type), []).append(p)
    types = set(by_type)
    position = {j: p for p, j in enumerate(span)}
    used: set[int] = set()
    pairs, last, misses = [], 0, 0
    for k, claim in enumerate(claims):
        kind = _kind(claim, types)
        horizon = max(0, last - _WINDOW)  # layers left behind further back than this are not looked at again
        if kind in by_type:
            # a bounded look ahead, not the whole list again for every row (100,000 rows × layers)
            places = by_type[kind]
            start = bisect_left(places, horizon)
            ahead = [span[p] for p in places[start:start + 4 * _WINDOW] if span[p] not in used][:_WINDOW]
            found = _likeliest(layers, ahead, claim)
            run = None if found is None else [found]
        elif claim.claimed and misses < _SUM_MISSES:  # (bounded: a table of such rows matching nothing)
            free = [j for j in span[horizon:horizon + _SUM_SCAN] if j not in used]
            run = _summing(layers, free, claim.claimed)
            misses = 0 if run else misses + 1
        else:
            continue
        if run:
            used.update(run)
            last = max(last, *(position[j] for j in run))
            pairs.append((k, _one(layers[run[0]], "order") if kind in by_type else Target(
                f"{layers[run[0]].name} … {layers[run[-1]].name} ({len(run)} layers)", "sum",
                tuple(layers[j] for j in run), stated_type(claim.name) or "", layers[run[-1]].output_shape)))
    return pairs


def _likeliest(layers: Sequence[LayerRow], candidates: list[int], claim: Claim) -> int | None:
    """The first candidate with the claimed count (and output size, when claimed), else the first."""
    def fits(j: int) -> bool:
        count = claim.claimed is None or layers[j].params == claim.claimed
        return count and (not claim.shape or _dims(claim.shape)[-3:] == tuple(layers[j].output_shape)[-3:])

    return next((j for j in candidates if fits(j)), candidates[0] if candidates else None)


def _dims(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in re.findall(r"\d+", text))


def _summing(layers: Sequence[LayerRow], free: list[int], total: int) -> list[int] | None:
    """A run of consecutive free layers, starting at one of the first few, whose parameters
    add up to ``total``."""
    for start in [i for i, j in enumerate(free) if layers[j].params][:_WINDOW]:
        running = 0
        for end in range(start, len(free)):
            running += layers[free[end]].params
            if running == total:
                return free[start:end + 1]
            if running > total:
                break
    return None
