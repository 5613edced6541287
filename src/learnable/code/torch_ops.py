"""PyTorch's tensor operations as ``forward()`` writes them: ``F.*``, ``torch.*`` and the
methods and attributes of a tensor, each mapped to its rule through ``ops.py``.

``F.max_pool2d(x, 2)`` is ``nn.MaxPool2d(2)``'s rule, ``x.view(x.size(0), -1)`` Flatten's;
the table gives each function's parameters in PyTorch's own order, so positional values
bind as PyTorch binds them. What is not here gives :class:`Unknown`: the reader then counts
the module from its constructors alone, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import Location, SpecError
from ..rules import lookup
from .ops import is_operand, made
from .values import BATCH, Const, Lib, Param, Unknown

if TYPE_CHECKING:
    from .reader import Reader

# F.name → (the module whose rule computes it, F's parameters after the input, in order)
_POOL = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
_AVG = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
FUNCTIONAL: dict[str, tuple[str, tuple[str, ...]]] = {
    "relu": ("ReLU", ("inplace",)), "relu_": ("ReLU", ()), "relu6": ("ReLU6", ("inplace",)),
    "elu": ("ELU", ("alpha", "inplace")), "selu": ("SELU", ("inplace",)), "celu": ("CELU", ("alpha", "inplace")),
    "leaky_relu": ("LeakyReLU", ("negative_slope", "inplace")), "gelu": ("GELU", ("approximate",)),
    "silu": ("SiLU", ("inplace",)), "mish": ("Mish", ("inplace",)), "hardswish": ("Hardswish", ("inplace",)),
    "hardsigmoid": ("Hardsigmoid", ("inplace",)), "sigmoid": ("Sigmoid", ()), "tanh": ("Tanh", ()),
    "softplus": ("Softplus", ("beta", "threshold")), "softsign": ("Softsign", ()), "logsigmoid": ("LogSigmoid", ()),
    "hardtanh": ("Hardtanh", ("min_val", "max_val", "inplace")), "tanhshrink": ("Tanhshrink", ()),
    "softmax": ("Softmax", ("dim", "_stacklevel", "dtype")), "log_softmax": ("LogSoftmax", ("dim", "_stacklevel",
                                                                                          "dtype")),
    "softmin": ("Softmin", ("dim", "_stacklevel", "dtype")), "glu": ("GLU", ("dim",)),
    "dropout": ("Dropout", ("p", "training", "inplace")), "dropout1d": ("Dropout1d", ("p", "training", "inplace")),
    "dropout2d": ("Dropout2d", ("p", "training", "inplace")), "dropout3d": ("Dropout3d", ("p", "training", "inplace")),
    "alpha_dropout": ("AlphaDropout", ("p", "training", "inplace")),
    "feature_alpha_dropout": ("FeatureAlphaDropout", ("p", "training", "inplace")),
    "max_pool1d": ("MaxPool1d", _POOL), "max_pool2d": ("MaxPool2d", _POOL), "max_pool3d": ("MaxPool3d", _POOL),
    "avg_pool1d": ("AvgPool1d", _AVG[:5]), "avg_pool2d": ("AvgPool2d", _AVG), "avg_pool3d": ("AvgPool3d", _AVG),
    "adaptive_avg_pool1d": ("AdaptiveAvgPool1d", ("output_size",)),
    "adaptive_avg_pool2d": ("AdaptiveAvgPool2d", ("output_size",)),
    "adaptive_avg_pool3d": ("AdaptiveAvgPool3d", ("output_size",)),
    "adaptive_max_pool1d": ("AdaptiveMaxPool1d", ("output_size", "return_indices")),
    "adaptive_max_pool2d": ("AdaptiveMaxPool2d", ("output_size", "return_indices")),
    "adaptive_max_pool3d": ("AdaptiveMaxPool3d", ("output_size", "return_indices")),
    "interpolate": ("Upsample", ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
                                 "antialias")),
    "upsample": ("Upsample", ("size", "scale_factor", "mode", "align_corners")),
    "pixel_shuffle": ("PixelShuffle", ("upscale_factor",)), "pixel_unshuffle": ("PixelUnshuffle", ("downscale_factor",)),
}
# torch.name and tensor.name that are F's (torch.relu(x), x.softmax(-1), torch.max_pool2d(x, 2))
_ALSO = {"relu", "relu_", "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "max_pool1d", "max_pool2d",
         "avg_pool1d", "adaptive_avg_pool1d", "selu", "celu", "pixel_shuffle"}
# weightless functions of one tensor that keep its shape: a node each, counted as activations are
ELEMENTWISE = {"exp", "log", "log1p", "sqrt", "rsqrt", "abs", "neg", "negative", "sin", "cos", "erf", "sign",
               "reciprocal", "square", "floor", "ceil", "round", "clamp", "clip", "clamp_min", "clamp_max", "pow",
               "tril", "triu", "normalize", "cumsum", "flip", "exp_", "clamp_", "sqrt_"}
# tensor methods that change neither values' layout nor shape (dtype, device, memory)
SAME = {"contiguous", "clone", "detach", "to", "float", "double", "half", "bfloat16", "long", "int", "bool", "type",
        "type_as", "cpu", "cuda", "requires_grad_", "masked_fill", "masked_fill_", "fill_", "zero_", "detach_",
        "retain_grad", "pin_memory", "share_memory_", "data", "mul_", "add_", "div_", "sub_"}
REDUCTIONS = {"mean": "mean", "sum": "sum", "amax": "max", "amin": "min", "prod": "prod", "max": "max",
              "min": "min", "std": "mean", "var": "mean", "nanmean": "mean", "logsumexp": "sum"}
CREATION = {"zeros", "ones", "empty", "rand", "randn", "full", "arange", "linspace", "eye", "randint", "tensor",
            "zeros_like", "ones_like", "empty_like", "rand_like", "randn_like", "full_like", "Tensor", "FloatTensor",
            "LongTensor", "randperm", "logspace", "as_tensor", "from_numpy"}
NOTHING = {"manual_seed", "set_grad_enabled", "set_default_dtype", "set_printoptions", "save", "load",
           "use_deterministic_algorithms", "set_float32_matmul_precision", "compile"}


class TorchOps:
    def __init__(self, reader: Reader):
        self.reader = reader
        self.ops = reader.ops

    # ---- F.* and torch.* -----------------------------------------------------------------

    def functional(self, name: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        if name in FUNCTIONAL:
            return self._module_function(name, f"F.{name}", args, kwargs, where)
        if name == "pad":
            return self._pad(args, kwargs, where)
        if name in ("layer_norm", "group_norm", "instance_norm", "batch_norm", "local_response_norm"):
            return self._normalization(name, args, kwargs, where)
        if name == "scaled_dot_product_attention":
            return self._attention(args, kwargs, where)
        if name in ELEMENTWISE and args and is_operand(args[0]):
            return self.ops.unary_function(args[0], f"F.{name}", where)
        if name in ("linear", "conv2d", "conv1d", "embedding", "layer_norm", "batch_norm", "scaled_dot_product_attention",
                    "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy", "one_hot"):
            return Unknown(f"F.{name}(...) is not followed", where)
        return Unknown(f"F.{name}(...) is not followed", where)

    def _module_function(self, name: str, spelled: str, args: list[Any], kwargs: dict[str, Any],
                         where: Location) -> Any:
        module, params = FUNCTIONAL[name]
        x, rest, kwargs = _input(args, kwargs)
        if not is_operand(x):
            return x if isinstance(x, Unknown) else Unknown(f"{spelled} of something that is not a tensor", where)
        given = dict(zip(params, rest))
        given.update(kwargs)
        rule = lookup(f"nn.{module}")
        accepted = {a.name for a in rule.args}
        given = {k: v for k, v in given.items() if k in accepted and v is not None or k == "size" and v is not None}
        unknown = next((v for v in given.values() if isinstance(v, Unknown)), None)
        if unknown is not None:
            return unknown
        if name in ("max", "adaptive_max_pool2d") and given.get("return_indices"):
            return Unknown(f"{spelled} with return_indices", where)
        return self.ops.apply(f"nn.{module}", [x], given, name.rstrip("_"), spelled, where)

    def _pad(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        x, rest, kwargs = _input(args, kwargs)
        pad = rest[0] if rest else kwargs.get("pad")
        mode = rest[1] if len(rest) > 1 else kwargs.get("mode", "constant")
        if not is_operand(x) or not isinstance(pad, (list, tuple)):
            return x if isinstance(x, Unknown) else Unknown("F.pad(...) of values not known from the code", where)
        return self.ops.apply("nn.Pad", [x], {"pad": tuple(pad), "mode": mode}, "pad",
                              "F.pad" if mode == "constant" else f"F.pad ({mode})", where)

    def _normalization(self, name: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """``F.layer_norm(x, shape, self.weight, self.bias)``: the module's weights are its own
        rows; the function keeps the shape (LayerNorm's rule checks the normalized shape)."""
        x, rest, kwargs = _input(args, kwargs)
        if not is_operand(x):
            return x if isinstance(x, Unknown) else Unknown(f"F.{name} of something that is not a tensor", where)
        if name == "layer_norm":
            shape = rest[0] if rest else kwargs.get("normalized_shape")
            shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)
            if all(isinstance(d, int) for d in shape):
                return self.ops.apply("nn.LayerNorm", [x], {"normalized_shape": shape, "elementwise_affine": False},
                                      name, f"F.{name}", where)
        return self.ops.unary_function(x, f"F.{name}", where)

    def _attention(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """``F.scaled_dot_product_attention(q, k, v)``: softmax(q·kᵀ)·v, as the two products
        and the softmax between them (the MACs are the products')."""
        names = ("query", "key", "value")
        q, k, v = (args[i] if len(args) > i else kwargs.get(n) for i, n in enumerate(names))
        if not all(is_operand(t) for t in (q, k, v)):
            return Unknown("F.scaled_dot_product_attention of values that are not tensors", where)
        spelled = "F.scaled_dot_product_attention"
        scores = self.ops.binary("MatMult", q, self.ops.transpose(k, -2, -1, spelled, where), where)
        if isinstance(scores, Unknown):
            return scores
        weights = self.ops.apply("nn.Softmax", [scores], {"dim": -1}, "softmax", spelled, where)
        return self.ops.binary("MatMult", weights, v, where)

    def torch_function(self, name: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        if name in NOTHING or name.startswith(("cuda.", "backends.", "distributed.", "autograd.", "jit.", "utils.",
                                               "optim.", "random.", "hub.", "onnx.")):
            return self._library(name, args, where)
        if name in CREATION:
            return self.create(name, args, kwargs, where)
        if name == "device":
            return _device(args[0] if args else kwargs.get("type", "cpu"))
        if name in ("no_grad", "inference_mode", "enable_grad", "Generator", "Size", "dtype"):
            return Unknown(f"torch.{name}()", where)
        if not args and "input" not in kwargs and name not in ("cat", "concat", "concatenate", "stack"):
            return Unknown(f"torch.{name}() is not followed", where)
        if name in ("cat", "concat", "concatenate"):
            tensors = args[0] if args else kwargs.get("tensors")
            dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis", 0))
            return self._cat(tensors, dim, f"torch.{name}", where)
        x, rest, kwargs = _input(args, kwargs)
        if isinstance(x, Unknown):
            return x
        if name in _ALSO or name in FUNCTIONAL and name.startswith(("max_pool", "avg_pool", "adaptive")):
            return self._module_function(name, f"torch.{name}", args, kwargs, where)
        if is_operand(x):
            return self.method(x, name, rest, kwargs, where, spelled=f"torch.{name}")
        return Unknown(f"torch.{name}(...) is not followed", where)

    def _library(self, name: str, args: list[Any], where: Location) -> Any:
        if name == "cuda.is_available" or name.endswith("is_available"):
            return False
        if name.startswith("jit.") and len(args) == 1:
            return args[0]  # @torch.jit.script, torch.jit.trace(m): the function or module itself
        return None if name in NOTHING else Unknown(f"torch.{name}(...)", where)

    def _cat(self, tensors: Any, dim: Any, spelled: str, where: Location) -> Any:
        items = self.reader.interp.iterate(tensors, where)
        if isinstance(items, Unknown):
            return items
        if isinstance(dim, Unknown):
            return dim
        return self.ops.concat(items, dim, spelled, where)

    # ---- making tensors ------------------------------------------------------------------

    def create(self, name: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """``torch.zeros(1, 1, 768)``, ``torch.arange(seq_len)``, ``torch.randn(1, 3, 32, 32)``:
        a constant of that shape (a first size of the batch's, or of 1, is the batch axis)."""
        spelled = f"torch.{name}"
        dtype = kwargs.get("dtype")
        integer = name in ("arange", "randint", "LongTensor", "randperm") or (
            isinstance(dtype, Lib) and dtype.name in _INTEGER_DTYPES)
        if name.endswith("_like"):
            other = args[0] if args else kwargs.get("input")
            if not is_operand(other):
                return Unknown(f"{spelled} of something that is not a tensor", where)
            if isinstance(other, Param):
                return Const(other.shape, False, integer, spelled)
            return Const(other.shape, other.batched, integer, spelled)
        numbers = _numbers(name, args, kwargs)
        if numbers is not None:
            return numbers
        sizes = _sizes(name, args, kwargs)
        return made(sizes, integer, spelled, where) if sizes is not None else Unknown(f"{spelled}(...) of data", where)

    # ---- tensor methods and attributes ---------------------------------------------------

    def attribute(self, x: Any, name: str, where: Location) -> Any:
        if name == "shape":
            return _shape(x)
        if name in ("ndim",):
            return len(x.shape) + _batched(x)
        if name == "T":
            return self.ops.permute(x, list(reversed(range(len(x.shape) + _batched(x)))), "x.T", where)
        if name in ("mT",):
            return self.ops.transpose(x, -1, -2, "x.mT", where)
        if name == "dtype":
            return _Dtype("int64" if getattr(x, "integer", False) else "float32")
        if name in ("data", "real"):
            return x
        if name in ("is_cuda", "is_xpu", "is_mps", "is_sparse", "is_quantized"):
            return False  # read on no device: a branch on the device changes no count
        if name in ("device", "grad", "requires_grad"):
            return Unknown(f"the tensor's {name}", where)
        from .libraries import Method

        return Method(f"Tensor.{name}", lambda a, k, w: self.method(x, name, a, k, w))

    def method(self, x: Any, name: str, args: list[Any], kwargs: dict[str, Any], where: Location,
               spelled: str | None = None) -> Any:
        spelled = spelled or f"x.{name}"
        unknown = next((v for v in [*args, *kwargs.values()] if isinstance(v, Unknown)), None)
        if unknown is not None:  # x.view(b, n) with an n not known from the code
            return unknown
        handler = _METHODS.get(name)
        if handler is not None:
            return handler(self, x, args, kwargs, where, spelled)
        if name in SAME:
            return x
        if name in _ALSO or name in FUNCTIONAL:
            return self._module_function(name, spelled, [x, *args], kwargs, where)
        if name in ELEMENTWISE:
            return self.ops.unary_function(x, spelled, where)
        if name in REDUCTIONS:
            return self._reduce(x, name, args, kwargs, where, spelled)
        return Unknown(f"`{spelled}(...)` is not followed", where)

    def _reduce(self, x: Any, name: str, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
        dim = args[0] if args else kwargs.get("dim", kwargs.get("axis"))
        keepdim = args[1] if len(args) > 1 else kwargs.get("keepdim", kwargs.get("keepdims", False))
        if isinstance(dim, Unknown) or isinstance(keepdim, Unknown):
            return dim if isinstance(dim, Unknown) else keepdim
        result = self.ops.reduce(x, dim, keepdim, REDUCTIONS[name], spelled, where)
        if name in ("max", "min") and dim is not None:  # values and indices
            return (result, Unknown(f"the indices of {spelled}", where))
        return result


def _view(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    dims = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
    if not dims and "shape" in kwargs:
        dims = _listed(kwargs["shape"])
    return self.ops.reshape(x, dims, spelled, where)


def _flatten(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    start = args[0] if args else kwargs.get("start_dim", 0)
    end = args[1] if len(args) > 1 else kwargs.get("end_dim", -1)
    return self.ops.flatten(x, start, end, spelled, where)


def _permute(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    dims = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args or kwargs.get("dims", []))
    return self.ops.permute(x, dims, spelled, where)


def _transpose(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    a = args[0] if args else kwargs.get("dim0", 0)
    b = args[1] if len(args) > 1 else kwargs.get("dim1", 1)
    return self.ops.transpose(x, a, b, spelled, where)


def _size(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    shape = _shape(x)
    if not args and "dim" not in kwargs:
        return shape
    dim = args[0] if args else kwargs["dim"]
    try:
        return shape[dim]
    except (IndexError, TypeError):
        raise SpecError(f"`{spelled}({dim})`: the tensor has {len(shape)} dims", where) from None


def _binary(op: str) -> Callable[..., Any]:
    def method(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
        other = args[0] if args else kwargs.get("other")
        return self.ops.binary(op, x, other, where)
    return method


def _split(chunks: bool) -> Callable[..., Any]:
    def method(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
        what = args[0] if args else kwargs.get("chunks" if chunks else "split_size_or_sections")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        sizes = self.ops.split_sizes(x, what, dim, chunks) if not isinstance(what, Unknown) else None
        if sizes is None:
            return Unknown(f"`{spelled}(...)` is not followed", where)
        return self.ops.split(x, sizes, dim, spelled, where)
    return method


def _expand(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    """``cls_token.expand(B, -1, -1)``: a tensor broadcast over the batch is batched."""
    sizes = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
    return self.ops.broadcast(x, sizes, spelled, where)


def _expand_as(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    other = args[0] if args else None
    if not is_operand(other) or not _batched(other):
        return Unknown(f"`{spelled}` is not followed", where)
    return _expand(self, x, [BATCH, *other.shape], {}, where, spelled)


def _unsqueeze(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    return self.ops.unsqueeze(x, args[0] if args else kwargs["dim"], spelled, where)


def _squeeze(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    return self.ops.squeeze(x, args[0] if args else kwargs.get("dim"), spelled, where)


def _dim(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    return len(x.shape) + _batched(x)


def _numel(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    return Unknown("the number of values, which depends on the batch size", where) if _batched(x) else _count(x.shape)


def _new(self: TorchOps, x: Any, args: list[Any], kwargs: dict[str, Any], where: Location, spelled: str) -> Any:
    return self.create("zeros", args, kwargs, where)


_METHODS: dict[str, Callable[..., Any]] = {
    "view": _view, "reshape": _view, "flatten": _flatten, "permute": _permute, "transpose": _transpose,
    "swapaxes": _transpose, "size": _size, "add": _binary("Add"), "sub": _binary("Sub"), "mul": _binary("Mult"),
    "div": _binary("Div"), "matmul": _binary("MatMult"), "mm": _binary("MatMult"), "bmm": _binary("MatMult"),
    "multiply": _binary("Mult"), "subtract": _binary("Sub"), "divide": _binary("Div"), "true_divide": _binary("Div"),
    "split": _split(False), "chunk": _split(True), "expand": _expand, "expand_as": _expand_as,
    "unsqueeze": _unsqueeze, "squeeze": _squeeze, "dim": _dim, "numel": _numel, "new_zeros": _new,
    "new_ones": _new, "new_empty": _new, "t": lambda s, x, a, k, w, sp: s.ops.transpose(x, -1, -2, sp, w),
}


def _device(spec: Any) -> Any:
    """``torch.device("cuda:0" if torch.cuda.is_available() else "cpu")``: the code reads no
    device (is_available() is False here), so a branch on ``device.type`` is decided as on a CPU."""
    from .values import ClassObj, Instance

    text = spec if isinstance(spec, str) else "cpu"
    kind, _, index = text.partition(":")
    return Instance(ClassObj("device", (), {}), {"type": kind, "index": int(index) if index.isdigit() else None})


class _Dtype:
    def __init__(self, name: str):
        self.name = name


_INTEGER_DTYPES = {"long", "int64", "int32", "int", "int16", "int8", "uint8", "short"}


def _input(args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, list[Any], dict[str, Any]]:
    """The tensor an operation works on (first, or ``input=``), the other positional
    arguments, and the keywords without it."""
    if args:
        return args[0], list(args[1:]), kwargs
    rest = dict(kwargs)
    return rest.pop("input", Unknown("an operation with no input")), [], rest


MAX_VALUES = 10_000  # a constant's values kept for the code to read (drop-path rates: a few dozen)


def _numbers(name: str, args: list[Any], kwargs: dict[str, Any]) -> Const | None:
    """A 1-D constant the code makes from numbers, with its values: torch.arange(n),
    torch.linspace(0, rate, depth), torch.tensor([0.485, 0.456, 0.406]); or, nested lists
    of numbers, a constant of their shape."""
    spelled = f"torch.{name}"
    if name in ("tensor", "as_tensor", "Tensor", "FloatTensor", "LongTensor") and args:
        shape = _nested_shape(args[0])
        if shape is None:
            return None
        integer = name == "LongTensor" or all(isinstance(v, int) for v in _flat(args[0]))
        values = tuple(args[0]) if len(shape) == 1 and shape[0] <= MAX_VALUES else None
        return Const(shape, False, integer, spelled, values)
    if name == "linspace":
        start = args[0] if args else kwargs.get("start")
        end = args[1] if len(args) > 1 else kwargs.get("end")
        steps = args[2] if len(args) > 2 else kwargs.get("steps")
        if not all(_number(v) for v in (start, end)) or not isinstance(steps, int) or not 0 < steps <= MAX_VALUES:
            return None
        values = tuple(start + (end - start) * i / max(steps - 1, 1) for i in range(steps))
        return Const((steps,), False, False, spelled, values)
    if name == "arange" and all(isinstance(v, int) and not isinstance(v, bool) for v in args) and not kwargs \
            and 1 <= len(args) <= 3 and (len(args) < 3 or args[2]):
        span = range(*args)
        return Const((len(span),), False, True, spelled, tuple(span)) if len(span) <= MAX_VALUES else None
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _nested_shape(value: Any) -> tuple[int, ...] | None:
    """The shape of nested lists of numbers ([[1, 2], [3, 4]] → (2, 2)); None if ragged or not numbers."""
    if _number(value):
        return ()
    if not isinstance(value, (list, tuple)) or not value:
        return None
    inner = {_nested_shape(v) for v in value[:MAX_VALUES]}
    if len(inner) != 1 or None in inner or len(value) > MAX_VALUES:
        return None
    return (len(value), *inner.pop())


def _flat(value: Any) -> list[Any]:
    return [x for v in value for x in _flat(v)] if isinstance(value, (list, tuple)) else [value]


def _sizes(name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    if name == "arange":
        numbers = [*args] or [kwargs.get("end")]
        start, end, step = (0, numbers[0], 1) if len(numbers) == 1 else (*numbers[:2], numbers[2] if len(numbers) > 2
                                                                             else 1)
        start, end = kwargs.get("start", start), kwargs.get("end", end)
        if not all(isinstance(v, int) for v in (start, end, step)) or step == 0:
            return Unknown("torch.arange with values that are not known")
        return [len(range(start, end, step))]
    if name == "linspace" or name == "logspace":
        steps = args[2] if len(args) > 2 else kwargs.get("steps")
        return [steps]
    if name == "eye":
        n = args[0] if args else kwargs.get("n")
        return [n, args[1] if len(args) > 1 else kwargs.get("m", n)]
    if name == "full":
        return list(args[0]) if args and isinstance(args[0], (list, tuple)) else None
    if name == "randint":
        size = args[-1] if args else kwargs.get("size")
        return list(size) if isinstance(size, (list, tuple)) else None
    if name in ("tensor", "as_tensor", "from_numpy", "randperm"):
        return None
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return list(args[0])
    if "size" in kwargs:
        return _listed(kwargs["size"])
    return list(args)


def _listed(value: Any) -> list[Any]:
    """Sizes given as a tuple or list, or one size alone (torch.zeros(size=5))."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _shape(x: Any) -> tuple:
    dims = tuple(Unknown("a size the code leaves unknown") if d is None else d for d in x.shape)
    return (BATCH, *dims) if _batched(x) else dims


def _batched(x: Any) -> bool:
    return bool(getattr(x, "batched", False))


def _count(shape: tuple) -> Any:
    total = 1
    for d in shape:
        if d is None:
            return Unknown("a size the code leaves unknown")
        total *= d
    return total

