"""The model zoo: spec files shipped with the package, named ``zoo:NAME``.

Each is an ordinary spec a user can copy and edit (``learnable zoo --show NAME`` prints
it); the tests build every one in its framework and compare the counts.
"""

from __future__ import annotations

from ..errors import SpecError
from ..rules._args import suggest

PREFIX = "zoo:"


def _folder():
    from importlib import resources  # only for zoo:NAME: it costs a fresh command milliseconds

    return resources.files("learnable") / "zoo"


def names() -> list[str]:
    return sorted(entry.name.removesuffix(".yaml") for entry in _folder().iterdir() if entry.name.endswith(".yaml"))


def text(name: str) -> str:
    """The spec file of ``zoo:NAME`` (the prefix is optional)."""
    name = name.removeprefix(PREFIX)
    known = names()
    if name not in known:
        raise SpecError(f"no model '{name}' in the zoo{suggest(name, known)}; the zoo has {', '.join(known)}")
    return (_folder() / f"{name}.yaml").read_text(encoding="utf-8")
