"""The trace of a PyTorch module on the meta device: each module call's input and output
shapes, without memory for weights and without changing the user's module (see
``torch_module.py``)."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from .._text import shape_text
from ..errors import SpecError
from ..rules import Shape

# ---- the trace --------------------------------------------------------------------------------


@dataclass
class Call:
    index: int  # when it began, among every module call of the forward
    inputs: tuple[tuple[int, ...], ...]  # full shapes, batch included
    output: tuple[int, ...] | None = None


def trace(module: nn.Module, shapes: list[Shape]) -> dict[int, list[Call]]:
    """Each module's calls (by id), from a forward on the meta device: float inputs, or
    integer ones (token ids) when the float forward fails."""
    state = {name: torch.empty_like(t, device="meta") for name, t in
             itertools.chain(module.named_parameters(), module.named_buffers())}
    failures = []
    for dtype in (torch.get_default_dtype(), torch.long):
        recorder = _Recorder()
        try:
            with recorder.hooked(module), torch.no_grad():
                args = tuple(torch.empty((1, *shape), dtype=dtype, device="meta") for shape in shapes)
                torch.func.functional_call(module, state, args)
            return recorder.calls
        except Exception as err:  # noqa: BLE001 (the user's forward may raise anything)
            failures.append((recorder.count, dtype, recorder.running[-1:], err))
    _, dtype, running, err = max(failures, key=lambda f: f[0])  # the attempt that went furthest
    names = {id(m): n for n, m in module.named_modules()}
    where = "".join(f", in {names.get(id(m))} ({type(m).__name__}, given "
                    f"{', '.join(map(shape_text, call.inputs)) or 'no tensor'})" for m, call in running if m is not module)
    given = ", ".join(shape_text((1, *s)) for s in shapes)
    problem = (str(err).strip().splitlines() or [""])[0][:300]
    raise SpecError(f"{type(module).__name__}: its forward failed on the meta device with input {given} "
                    f"({str(dtype).removeprefix('torch.')}){where}: {type(err).__name__}: {problem}; check "
                    "input_shape (one example, batch excluded), or count without input_shape for counts and formulas")


class _Recorder:
    """Hooks on every module: a call's tensor inputs' shapes when it begins, its first
    output's when it ends. The trace runs in eval mode, as torchinfo's does (BatchNorm takes
    a batch of one); every module's mode and hooks are restored after."""

    def __init__(self) -> None:
        self.calls: dict[int, list[Call]] = {}
        self.running: list[tuple[nn.Module, Call]] = []  # calls begun and not ended, innermost last
        self.count = 0

    def before(self, mod: nn.Module, args: tuple, kwargs: dict) -> None:
        call = Call(self.count, tuple(tuple(t.shape) for t in _tensor_inputs(mod, args, kwargs)))
        self.count += 1
        self.calls.setdefault(id(mod), []).append(call)
        self.running.append((mod, call))

    def after(self, mod: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        while self.running and self.running[-1][0] is not mod:  # a call whose error was caught
            self.running.pop()
        if self.running:
            self.running.pop()[1].output = _first_shape(output)

    @contextmanager
    def hooked(self, module: nn.Module) -> Iterator[None]:
        modes, handles = {mod: mod.training for mod in module.modules()}, []
        try:
            module.eval()
            for mod in modes:
                handles += [mod.register_forward_pre_hook(self.before, with_kwargs=True),
                            mod.register_forward_hook(self.after, with_kwargs=True)]
            yield
        finally:
            for handle in handles:
                handle.remove()
            for mod, training in modes.items():
                mod.training = training


@lru_cache(maxsize=1024)
def _forward_names(cls: type) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(cls.forward).parameters)[1:]
    except (TypeError, ValueError):
        return ()


def _tensor_inputs(mod: nn.Module, args: tuple, kwargs: dict) -> list[torch.Tensor]:
    """The tensors a call was given, in the order of forward's parameters."""
    names = _forward_names(type(mod))[len(args):]
    return [v for v in (*args, *(kwargs[n] for n in names if n in kwargs)) if isinstance(v, torch.Tensor)]


def _first_shape(output: Any) -> tuple[int, ...] | None:
    """The shape of the first tensor in an output ((output, (h, c)) → output's)."""
    if isinstance(output, torch.Tensor):
        return tuple(output.shape)
    items = output.values() if isinstance(output, dict) else output if isinstance(output, (tuple, list)) else ()
    return next((s for s in map(_first_shape, items) if s is not None), None)
