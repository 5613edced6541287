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
            with recorder.hooked(module), torch.no_grad(), _Normalizations():
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


class _Normalizations(torch.overrides.TorchFunctionMode):
    """A normalization's output has its input's shape, but on the meta device torch works it
    out through Python decompositions, about a millisecond a call: 40 ms of ResNet-50's
    50 ms trace went to its 53 BatchNorms. Here a float input whose statistics and affine
    weights fit it gets an empty tensor like it at once; anything else runs the real function,
    which raises what it would. (A mode is this thread's, for this trace only.)"""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func in _NORMALIZATIONS and _fits(func, args, kwargs):
            return torch.empty_like(args[0] if args else kwargs["input"])
        return func(*args, **kwargs)


def _fits(func: Any, args: tuple, kwargs: dict) -> bool:
    try:
        bound = _signature(func).bind(*args, **kwargs).arguments
    except TypeError:  # a call torch refuses: the real function says why
        return False
    x = bound.get("input")
    return (isinstance(x, torch.Tensor) and x.device.type == "meta" and x.is_floating_point()
            and _NORMALIZATIONS[func](x, bound))


def _per_channel(x: torch.Tensor, bound: dict, names: tuple[str, ...], least_rank: int) -> bool:
    """Statistics and weights of one value per channel (axis 1), each given or None."""
    return x.dim() >= least_rank and all(
        bound.get(name) is None or tuple(bound[name].shape) == (x.shape[1],) for name in names)


def _layer_norm_fits(x: torch.Tensor, bound: dict) -> bool:
    shape = tuple(bound["normalized_shape"])
    return (0 < len(shape) <= x.dim() and tuple(x.shape[-len(shape):]) == shape
            and all(bound.get(name) is None or tuple(bound[name].shape) == shape for name in ("weight", "bias")))


def _group_norm_fits(x: torch.Tensor, bound: dict) -> bool:
    groups = bound["num_groups"]
    return (_per_channel(x, bound, ("weight", "bias"), 2) and isinstance(groups, int) and groups > 0
            and x.shape[1] % groups == 0)


_STATISTICS = ("running_mean", "running_var", "weight", "bias")
_NORMALIZATIONS = {
    torch.nn.functional.batch_norm: lambda x, bound: _per_channel(x, bound, _STATISTICS, 2),
    torch.nn.functional.instance_norm: lambda x, bound: _per_channel(x, bound, _STATISTICS, 3),
    torch.nn.functional.layer_norm: _layer_norm_fits,
    torch.nn.functional.group_norm: _group_norm_fits,
}


@lru_cache(maxsize=None)
def _signature(func: Any) -> inspect.Signature:
    return inspect.signature(func)


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
