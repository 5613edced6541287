"""The registry: layer type names → rules.

Names match case-insensitively and with any module prefix (``layers.``, ``keras.layers.``,
``nn.``, ``torch.nn.``). Keras and PyTorch sometimes spell different signatures alike
(Keras ``Conv2D(filters, kernel_size)`` against PyTorch ``Conv2d(in_channels,
out_channels, kernel_size)``), so an exact-case match wins, a PyTorch prefix (``nn.``)
selects the PyTorch form, and otherwise the Keras form is taken.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from ..errors import RuleError
from ._args import suggest
from ._base import KERAS, PYTORCH, Rule

_by_lower: dict[str, list[Rule]] = defaultdict(list)
_rules: list[Rule] = []


def register(rule: Rule) -> Rule:
    for name in (rule.name, *rule.aliases):
        taken = [r for r in _by_lower[name.lower()] if r.framework == rule.framework and name in (r.name, *r.aliases)]
        if taken:
            raise ValueError(f"layer name {name!r} registered twice for {rule.framework}")
        _by_lower[name.lower()].append(rule)
    _rules.append(rule)
    lookup.cache_clear()
    return rule


def all_rules() -> tuple[Rule, ...]:
    return tuple(_rules)


def _split_prefix(type_name: str) -> tuple[str | None, str]:
    prefix, _, name = type_name.rpartition(".")
    if not prefix:
        return None, name
    head = prefix.split(".")[0]
    if head in ("nn", "torch"):
        return PYTORCH, name
    return KERAS, name


@lru_cache(maxsize=4096)  # a network repeats a few type names many times
def lookup(type_name: str, prefer: str = KERAS) -> Rule:
    """The rule for a type name, or a RuleError naming the closest known types.

    ``prefer`` decides names both frameworks spell alike (Dropout, ReLU, Flatten): a
    network written in PyTorch's names means PyTorch's Dropout(p).
    """
    hint, name = _split_prefix(type_name.strip())
    candidates = [r for r in _by_lower.get(name.lower(), ()) if hint in (None, r.framework)]
    if not candidates:
        ordered = sorted(_rules, key=lambda r: r.framework != KERAS)
        known = [n for r in ordered if hint in (None, r.framework) for n in (r.name, *r.aliases)]
        raise RuleError(f"unknown layer type '{type_name}'{suggest(name, known)}")
    exact = [r for r in candidates if name in (r.name, *r.aliases)]
    pool = exact or candidates
    preferred = [r for r in pool if r.framework == (hint or prefer)]
    return (preferred or pool)[0]


@lru_cache(maxsize=4096)  # asked once per layer; the registry does not change after import
def frameworks_of(type_name: str) -> frozenset[str]:
    """Whose layer a name can be: {"keras"} for Conv2D, {"pytorch"} for Conv2d or
    nn.Dropout, both for Dropout; empty when the name is unknown."""
    hint, name = _split_prefix(type_name.strip())
    if hint:
        return frozenset({hint})
    rules = _by_lower.get(name.lower(), ())
    exact = [r for r in rules if name in (r.name, *r.aliases)] or rules
    return frozenset(r.framework for r in exact)

