"""A PyTorch module's tensors and submodules as the code walks them, and what it freezes.

``model.parameters()``, ``named_parameters()``, ``buffers()``, ``children()``, ``modules()``
give the code the objects PyTorch would (a layer's tensor is a :class:`WeightRef`, a tensor
the code made a :class:`Param`), in PyTorch's order, so that a loop such as
``for p in model.backbone.parameters(): p.requires_grad = False`` or
``list(base.children())[:-1]`` is followed, not guessed.

``requires_grad`` is held per tensor, as PyTorch holds it: ``layer.requires_grad_(False)``
then ``layer.bias.requires_grad = True`` leaves the weight frozen and the bias training. A
layer all of whose tensors are frozen is a non-trainable row of its rule; one partly frozen
is counted tensor by tensor (as the PyTorch importer counts it).
"""

from __future__ import annotations

from typing import Any

from ..errors import LearnableError, Location
from .values import Layer, Module, Param, Unknown, WeightRef


def tensors(layer: Layer, buffers: bool = False) -> list[tuple[str, tuple[int, ...]]] | None:
    """A layer's own parameters (or buffers) as PyTorch holds them, by name and shape, from
    its arguments: after weight_norm, ``weight_g`` and ``weight_v`` in the weight's place; a
    tensor the code replaced, its replacement. None where they depend on its input (a lazy
    layer)."""
    from .torch_api import _weights

    try:
        weights = _weights(layer)
    except LearnableError:
        return None
    found = [held for name, shape, buffer in weights if buffer == buffers and name not in layer.replaced
             for held in (held_as(layer, name, shape) if not buffers else [(name, tuple(shape))])]
    if not buffers:
        found += [(n, p.shape) for n, p in layer.replaced.items() if isinstance(p, Param) and p.unknown is None]
    return found


def tensor_names(layer: Layer, buffers: bool = False) -> list[str] | None:
    held = tensors(layer, buffers)
    return None if held is None else [name for name, _ in held]


def held_as(layer: Layer, name: str, shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """A tensor as PyTorch holds it after weight_norm: a magnitude g (the size of ``dim``, 1
    elsewhere; one number for dim None or -1, as torch.norm_except_dim takes them) and a
    direction v (the tensor's shape) in its place."""
    shape = tuple(shape)
    if name not in layer.reparametrized:
        return [(name, shape)]
    _, dim, parametrize = layer.reparametrized[name]
    whole = dim is None or dim == -1
    g = () if whole else tuple(size if i == dim % len(shape) else 1 for i, size in enumerate(shape))
    if parametrize:  # torch.nn.utils.parametrizations.weight_norm
        return [(f"parametrizations.{name}.original0", g), (f"parametrizations.{name}.original1", shape)]
    return [(f"{name}_g", g), (f"{name}_v", shape)]


def tensor_shape(ref: WeightRef) -> tuple[int, ...] | None:
    """The shape of a layer's tensor, from the layer's arguments (None where not known)."""
    from .torch_api import _weights

    held = ref.layer.replaced.get(ref.name)
    if isinstance(held, Param):
        return held.shape if held.unknown is None else None
    try:
        return next((tuple(shape) for n, shape, _ in _weights(ref.layer) if n == ref.name), None)
    except LearnableError:
        return None


# ---- walking a module ------------------------------------------------------------------------


def named_children(owner: Layer | Module, where: Location) -> list[tuple[str, Any]] | Unknown:
    if isinstance(owner, Module):
        children = [(name, child) for name, child in owner.children.items() if child is not None]
        return next((child for _, child in children if isinstance(child, Unknown)), children)
    from .torch_api import _weights

    try:
        weights = _weights(owner)
    except LearnableError:
        weights = None
    if weights is None or any("." in name for name, _, _ in weights):  # nn.MultiheadAttention holds an out_proj
        return Unknown(f"the submodules of nn.{owner.type_name} (learnable counts it as one layer)", where,
                       maybe_module=True)
    return []


def named_modules(owner: Layer | Module, where: Location, prefix: str = "",
                  seen: set[int] | None = None) -> list[tuple[str, Any]] | Unknown:
    """The module and every module under it, each once, depth first (as PyTorch walks them)."""
    seen = set() if seen is None else seen
    if id(owner) in seen:
        return []
    seen.add(id(owner))
    found: list[tuple[str, Any]] = [(prefix, owner)]
    children = named_children(owner, where)
    if isinstance(children, Unknown):
        return children
    for name, child in children:
        below = named_modules(child, where, f"{prefix}.{name}" if prefix else name, seen)
        if isinstance(below, Unknown):
            return below
        found += below
    return found


def named_tensors(owner: Layer | Module, where: Location, buffers: bool = False) -> list[tuple[str, Any]] | Unknown:
    """``named_parameters()`` (or ``named_buffers()``): each tensor once, the first time it is
    met (a tied tensor belongs to the layer that made it)."""
    modules = named_modules(owner, where)
    if isinstance(modules, Unknown):
        return modules
    found: list[tuple[str, Any]] = []
    seen: set[Any] = set()
    for prefix, module in modules:
        for name, tensor in _own_tensors(module, buffers, where):
            if isinstance(tensor, Unknown):
                return tensor
            key = (id(tensor.layer), tensor.name) if isinstance(tensor, WeightRef) else id(tensor)
            if key not in seen:
                seen.add(key)
                found.append((f"{prefix}.{name}" if prefix else name, tensor))
    return found


def _own_tensors(module: Layer | Module, buffers: bool, where: Location) -> list[tuple[str, Any]]:
    if isinstance(module, Module):
        return [(n, p) for n, p in module.params.items() if p.buffer == buffers]
    names = tensor_names(module, buffers)
    if names is None:
        return [("", Unknown(f"the tensors of nn.{module.type_name}, which depend on its input's shape", where))]
    return [(n, module.replaced.get(n) or module.tied.get(n) or WeightRef(module, n)) for n in names]


# ---- requires_grad -----------------------------------------------------------------------


def requires_grad_(value: Any, flag: bool, seen: set[int] | None = None) -> None:
    """``module.requires_grad_(flag)``: every tensor under it."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, WeightRef):
        set_tensor(value, flag)
    elif isinstance(value, Param):
        value.trainable = flag
    elif isinstance(value, Layer):
        for ref in value.tied.values():  # a tensor it shares is another layer's: set there
            requires_grad_(ref, flag, seen)
        value.trainable, value.frozen = flag, set()
        for param in value.replaced.values():
            if param is not None:
                param.trainable = flag
    elif isinstance(value, Module):
        for param in value.params.values():
            if not param.buffer:
                param.trainable = flag
        for child in value.children.values():
            if child is not None:
                requires_grad_(child, flag, seen)


def set_tensor(ref: WeightRef, flag: bool) -> None:
    """``layer.bias.requires_grad = flag``: that tensor alone."""
    layer = ref.layer
    if isinstance(layer.replaced.get(ref.name), Param):
        layer.replaced[ref.name].trainable = flag
        return
    names = set(tensor_names(layer) or ())
    if not layer.trainable:  # the whole layer was frozen: from now on, tensor by tensor
        layer.trainable, layer.frozen = True, set(names)
    (layer.frozen.discard if flag else layer.frozen.add)(ref.name)
    if names and names <= layer.frozen:  # all of it frozen: a non-trainable row of its rule
        layer.trainable, layer.frozen = False, set()


def requires_grad(value: Any) -> bool:
    if isinstance(value, WeightRef):
        held = value.layer.replaced.get(value.name)
        if isinstance(held, Param):
            return held.trainable
        return value.layer.trainable and value.name not in value.layer.frozen
    return bool(getattr(value, "trainable", True))
