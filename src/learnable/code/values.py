"""The values the code reader computes with, beside Python's own (ints, strings, lists,
tuples, dicts, which it uses as they are).

Nothing here runs the user's code: a class the code defines is a :class:`ClassObj` holding
its syntax tree, a function a :class:`Function`, a library object a :class:`Lib` naming it
(``torch.nn.Conv2d``), a layer a :class:`Layer` holding its rule and arguments, and a
tensor a :class:`Tensor` holding the node that makes it and its shape. What the code does
not determine (data it loads, a name from a cell not pasted) is :class:`Unknown`, which
says why, and is refused with that reason only where it would change a count.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from ..errors import Location
from ..rules import Rule, Shape


@dataclass(eq=False, slots=True)
class Unknown:
    """A value the code does not determine; ``why`` says where it comes from, for the
    message that refuses it where it matters."""

    why: str
    where: Location | None = None
    maybe_module: bool = False  # it could be a layer or module (so its weights would go uncounted)


class BatchSize:
    """The batch size (``x.size(0)``, ``x.shape[0]``): never a number here, since shapes
    are one example's. It is only meaningful where a tensor's batch axis is written out
    (``x.view(x.size(0), -1)``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "batch"


BATCH = BatchSize()
MISSING = object()  # no such attribute (where None would be a value)


@dataclass(eq=False, slots=True)
class Tensor:
    """A tensor in the model's data flow: the node that makes it and one example's shape.

    ``batched``: the first axis of the real tensor is the batch (absent from ``shape``);
    a tensor the code makes without one (``torch.arange(10)``, a parameter) is not.
    ``integer``: it holds integers (token ids), which only embeddings take."""

    node: str
    shape: Shape
    batched: bool = True
    integer: bool = False
    framework: str = ""

    @property
    def rank(self) -> int:
        """The real tensor's rank, batch included."""
        return len(self.shape) + self.batched


@dataclass(eq=False)
class Lib:
    """An object of a library, by its qualified name (``torch.nn.Conv2d``, ``math.sqrt``)."""

    path: str

    def attr(self, name: str) -> Lib:
        return Lib(f"{self.path}.{name}")

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]


@dataclass(eq=False)
class Function:
    """A function or lambda the code defines, with the scope it was defined in."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    scope: Any  # interpreter.Scope
    name: str
    defaults: list[Any] = field(default_factory=list)
    kw_defaults: dict[str, Any] = field(default_factory=dict)
    decorators: tuple[str, ...] = ()
    cls: Any = None  # the class whose body defines it (a method), for super()

    @property
    def is_property(self) -> bool:
        return "property" in self.decorators or "cached_property" in self.decorators


@dataclass(eq=False)
class Bound:
    """A method bound to its object (``self.encode``, ``layer.build``)."""

    function: Any
    owner: Any


@dataclass(eq=False)
class Partial:
    """``functools.partial(f, *args, **kwargs)``: ``norm_layer = partial(nn.LayerNorm, eps=1e-6)``."""

    function: Any
    args: tuple
    kwargs: dict[str, Any]


@dataclass(eq=False)
class ClassObj:
    """A class the code defines: its namespace (methods and class attributes) and bases."""

    name: str
    bases: tuple[Any, ...]
    namespace: dict[str, Any]
    where: Location | None = None
    dataclass_fields: tuple[str, ...] | None = None  # @dataclass: the fields, in order

    def mro(self) -> list[ClassObj]:
        """The class and its user-defined ancestors, nearest first (depth first, as
        single inheritance and simple mixins resolve)."""
        order, stack = [], [self]
        while stack:
            cls = stack.pop(0)
            if cls not in order:
                order.append(cls)
                stack[0:0] = [b for b in cls.bases if isinstance(b, ClassObj)]
        return order

    def lookup(self, name: str) -> Any:
        for cls in self.mro():
            if name in cls.namespace:
                return cls.namespace[name]
        raise KeyError(name)

    def library_bases(self) -> list[str]:
        """The library classes it derives from (``torch.nn.Module``, ``keras.layers.Layer``)."""
        return [b.path for cls in self.mro() for b in cls.bases if isinstance(b, Lib)]


@dataclass(eq=False)
class Instance:
    """An object of a plain class the code defines (a config, a helper)."""

    cls: ClassObj
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Layer:
    """A layer or module of a framework, made by a call such as ``nn.Conv2d(3, 6, 5)`` or
    ``layers.Dense(64)``: its rule and arguments, not yet part of any graph.

    ``calls`` are the nodes it has made (one per call); its weights count at the first.
    """

    framework: str  # "keras" or "torch"
    rule: Rule
    type_name: str  # as written: "Conv2D", "nn.Conv2d"
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    where: Location | None
    name: str = ""  # Keras's layer name (given or automatic)
    trainable: bool = True
    note: str = ""  # what the reader assumed (a Keras 2 default), shown on the row
    bound: dict[str, Any] = field(default_factory=dict)  # its arguments by name, as the rule reads them
    calls: list[str] = field(default_factory=list)  # a Keras layer: "built" once called (its build() has run)
    tied: dict[str, Any] = field(default_factory=dict)  # tensor name → the WeightRef it is (weight tying)
    frozen: set[str] = field(default_factory=set)  # tensors set to requires_grad=False
    # tensor name → the Param the code put in its place (``fc.weight = nn.Parameter(...)``), or None
    replaced: dict[str, Any] = field(default_factory=dict)
    unread: str = ""  # a call that changed its tensors in a way learnable does not read (spectral_norm)
    # tensor name → (how, dim, through torch.nn.utils.parametrizations): weight_norm's g and v
    reparametrized: dict[str, tuple[str, int | None, bool]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<{self.framework} {self.type_name} {self.name or ''}>"
    keras2_input: Any = None  # Keras 2's input_shape= (or input_dim=, input_length=) on it


@dataclass(eq=False)
class WeightRef:
    """A layer's tensor by name (``self.fc.weight``): for tying it to another layer
    (``self.head.weight = self.embed.weight``) or freezing it; its values are never read."""

    layer: Layer
    name: str


@dataclass(eq=False)
class Param:
    """A learnable tensor a module or layer owns: ``nn.Parameter(torch.zeros(1, 1, 768))``,
    ``self.add_weight(shape=(d, units))``, or a buffer (``register_buffer``)."""

    shape: tuple[int, ...]
    trainable: bool = True
    buffer: bool = False
    name: str = ""
    where: Location | None = None
    unknown: Unknown | None = None  # its shape is not known from the code (refused when counted)
    fixed: bool = False  # made non-trainable (Keras's add_weight(trainable=False)): no layer's switch trains it
    nodes: dict[tuple[int, bool], Any] = field(default_factory=dict)  # (emitter, batch_axis) → its node's tensor


@dataclass(eq=False)
class Module:
    """An object of a framework class: a PyTorch ``nn.Module`` (a class the code derives
    from it, or a container such as ``nn.Sequential``), or a Keras layer or model the code
    subclasses, or a Keras ``Sequential``/functional model.

    ``children`` are its submodules in the order they were set (PyTorch registers them so);
    ``params`` its own tensors.
    """

    framework: str
    kind: str  # "user" (a class of the code's), "Sequential", "ModuleList", "ModuleDict", "Functional"
    cls: ClassObj | None = None
    base: str = ""  # the framework class a user class derives from ("Sequential", "Module", "Layer", "Model")
    attrs: dict[str, Any] = field(default_factory=dict)
    children: dict[str, Any] = field(default_factory=dict)  # name → Layer | Module
    params: dict[str, Param] = field(default_factory=dict)
    name: str = ""  # Keras's name for it
    where: Location | None = None
    trainable: bool = True
    # A Keras functional model: its inputs and outputs (tensors, or nested lists/dicts of them).
    inputs: Any = None
    outputs: Any = None
    input_shape: Shape | None = None  # a Keras Sequential's, when its code states one
    input_name: str = ""  # the name of the InputLayer Keras makes for it
    built: bool = False  # a Keras layer the code subclasses: its build() has run

    @property
    def type_name(self) -> str:
        return self.cls.name if self.cls is not None else self.kind

    def __repr__(self) -> str:
        return f"<{self.framework} {self.type_name} {self.name}>"


@dataclass(eq=False, slots=True)
class Const:
    """A tensor the code makes from sizes alone (``torch.zeros(1, 1, 768)``,
    ``torch.arange(seq_len)``): known by its shape, outside the data flow until an
    operation mixes it with the flow, where it becomes a node of its own."""

    shape: Shape
    batched: bool = False
    integer: bool = False
    what: str = ""  # how the code made it, for its row
    # its values, where the code made it from numbers (torch.linspace(0, 0.1, 12), torch.tensor([0.5, 0.25])):
    # a 1-D constant's, for code that iterates over them (timm's drop-path rates)
    values: tuple | None = None
