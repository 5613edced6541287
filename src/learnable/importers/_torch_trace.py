"""The trace of a PyTorch module on the meta device: each module call's input and output
shapes, without memory for weights and without changing the user's module (see
``torch_module.py``).

The inputs (``inputs.py``) are passed as stated: by position, or by keyword (T5's
``decoder_input_ids``), each in its own dtype (Whisper's float ``input_features`` beside
integer ``decoder_input_ids``). A dtype left unsaid follows the forward's parameter name
(Hugging Face's ``*_ids`` and ``*_mask`` are integers); for any other, the forward is tried
with floats, then with integers (token ids). Where every attempt fails, the error shown is
that of the attempt that went furthest, which is the one whose dtypes the model took."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import torch
from torch import nn

from .._text import shape_text
from ..errors import SpecError
from ..inputs import FLOAT, INT, InputSpec
from ..rules._args import suggest

# ---- the trace --------------------------------------------------------------------------------


@dataclass
class Call:
    index: int  # when it began, among every module call of the forward
    inputs: tuple[tuple[int, ...], ...]  # full shapes, batch included
    output: tuple[int, ...] | None = None


def trace(module: nn.Module, specs: list[InputSpec]) -> dict[int, list[Call]]:
    """Each module's calls (by id), from a forward on the meta device with the inputs
    stated, in each attempt's dtypes (``_attempts``). A forward that reads its tensors'
    values (``.item()`` in Hugging Face's mask code) cannot run on meta: a module whose
    tensors are real is then run itself, on its own device, on zeros (a batch of one)."""
    tensors = dict(itertools.chain(module.named_parameters(), module.named_buffers()))
    state = {name: torch.empty_like(t, device="meta") for name, t in tensors.items()}
    bound, failures = _bind(module, specs), []
    for dtypes in _attempts(bound, _float_dtype(tensors.values())):
        recorder, err = _run(module, bound, dtypes, state)
        if err is None:
            return recorder.calls
        failures.append((recorder.progress, -len(failures), dtypes, recorder.running[-1:], err))
    _, _, dtypes, running, err = max(failures, key=lambda f: f[:2])  # furthest; on a tie, the first tried
    device = next((t.device for t in tensors.values()), torch.device("cpu"))
    real = "meta" in str(err) and device.type != "meta"  # it needs values, and the module has them
    if real:
        recorder, err = _run(module, bound, dtypes, None, device)
        if err is None:
            return recorder.calls
        running = recorder.running[-1:]
    raise SpecError(_failure(module, bound, dtypes, running, err, "on zeros" if real else "on the meta device"))


def _run(module: nn.Module, bound: list, dtypes: tuple, state: dict | None,
         device: torch.device | str = "meta") -> tuple[_Recorder, Exception | None]:
    """One forward, recorded: on meta stand-ins for the module's tensors (``state``), or on
    the module's own (None), with empty (meta) or zero inputs."""
    recorder = _Recorder()
    args = [torch.zeros((1, *s.shape), dtype=dtype, device=device) for (s, _), dtype in zip(bound, dtypes)]
    positional = tuple(a for (s, _), a in zip(bound, args) if not s.name)
    keywords = {s.name: a for (s, _), a in zip(bound, args) if s.name}
    try:
        with recorder.hooked(module), torch.no_grad(), _Normalizations():
            if state is None:
                module(*positional, **keywords)
            else:
                torch.func.functional_call(module, state, positional, keywords)
    except Exception as err:  # noqa: BLE001 (the user's forward may raise anything)
        return recorder, err
    return recorder, None


def _float_dtype(tensors: Any) -> torch.dtype:
    """The module's float dtype (a bf16 model takes bf16 inputs), else torch's default."""
    return next((t.dtype for t in tensors if t.is_floating_point()), torch.get_default_dtype())


def _bind(module: nn.Module, specs: list[InputSpec]) -> list[tuple[InputSpec, str | None]]:
    """Each input with the forward's parameter it fills (None under ``*args``); a keyword the
    forward does not take, or one also given by position, is one clear error."""
    params = _forward_parameters(type(module))
    positional = [n for n, kind in params if kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
    keywords = {n for n, kind in params if kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")}
    any_keyword = any(kind == "VAR_KEYWORD" for _, kind in params) or not params
    taken = positional[:sum(1 for s in specs if not s.name)]
    bound, k = [], 0
    for spec in specs:
        if spec.name is None:
            bound.append((spec, positional[k] if k < len(positional) else None))
            k += 1
            continue
        if spec.name in taken:
            raise SpecError(f"{type(module).__name__}: the input '{spec.name}' is given both by position and by name")
        near = suggest(spec.name, sorted(keywords)) if spec.name not in keywords else ""
        if spec.name not in keywords and (near or not any_keyword):  # a typo is refused even under **kwargs
            raise SpecError(f"{type(module).__name__}: its forward takes no input named '{spec.name}'"
                            f"{near}; it takes {', '.join(n for n, _ in params if n in keywords) or 'none by name'}")
        bound.append((spec, spec.name))
    return bound


def _attempts(bound: list[tuple[InputSpec, str | None]], floats: torch.dtype) -> list[tuple[torch.dtype, ...]]:
    """Each input's dtype: said, or by its parameter's name; the rest float in a first
    attempt and integer (token ids) in a second."""
    dtype = {INT: torch.long, FLOAT: floats}
    known = [dtype[s.dtype or _by_name(name)] if s.dtype or _by_name(name) else None for s, name in bound]
    tries = (dtype[FLOAT], dtype[INT]) if None in known else (None,)
    return [tuple(t if k is None else k for k in known) for t in tries]


def _by_name(name: str | None) -> str | None:
    """Hugging Face's names for integer inputs: input_ids, decoder_input_ids, attention_mask."""
    return INT if name and (name == "ids" or name.endswith(("_ids", "_mask"))) else None


def _failure(module: nn.Module, bound: list, dtypes: tuple, running: list, err: Exception, on: str) -> str:
    """One line: the inputs of the attempt (a positional one with the parameter it fills),
    where it failed, torch's own error, and a remedy."""
    names = {id(m): n for n, m in module.named_modules()}
    where = "".join(f", in {names.get(id(m))} ({type(m).__name__}, given "
                    f"{', '.join(map(shape_text, call.inputs)) or 'no tensor'})" for m, call in running if m is not module)
    given = ", ".join(f"{spec.name + '=' if spec.name else ''}{shape_text((1, *spec.shape))} "
                      f"{str(dtype).removeprefix('torch.')}{f' (as {name})' if name and not spec.name else ''}"
                      for (spec, name), dtype in zip(bound, dtypes))
    problem = " ".join(str(err).split())[:300]
    remedy = ("it reads tensor values, which a model built on the meta device has none of: build it on the CPU "
              "to trace it" if "meta" in str(err) else "check input_shape (one example each, batch "
              "excluded; NAME=SHAPE:int for a keyword input of token ids)")
    return (f"{type(module).__name__}: its forward failed {on} with input {given}{where}: {type(err).__name__}: "
            f"{problem}; {remedy}, or count without input_shape for counts and formulas")


class _Recorder:
    """Hooks on every module: a call's tensor inputs' shapes when it begins, its first
    output's when it ends. The trace runs in eval mode, as torchinfo's does (BatchNorm takes
    a batch of one); every module's mode and hooks are restored after."""

    def __init__(self) -> None:
        self.calls: dict[int, list[Call]] = {}
        self.running: list[tuple[nn.Module, Call]] = []  # calls begun and not ended, innermost last
        self.count = self.ended = 0

    @property
    def progress(self) -> int:
        """How far a forward got: calls begun and ended (an Embedding that refuses float ids
        began; the same call on integers ended too)."""
        return self.count + self.ended

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
            self.ended += 1

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


@cache
def _signature(func: Any) -> inspect.Signature:
    return inspect.signature(func)


@lru_cache(maxsize=1024)
def _forward_parameters(cls: type) -> tuple[tuple[str, str], ...]:
    """forward's parameters after self: (name, kind), kind as inspect names it."""
    try:
        return tuple((p.name, p.kind.name) for p in inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return ()


def _forward_names(cls: type) -> tuple[str, ...]:
    return tuple(name for name, _ in _forward_parameters(cls))


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
