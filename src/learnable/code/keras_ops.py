"""Keras's tensor operations as ``call()`` and functional code write them: ``keras.ops.*``
(NumPy's names and arguments: ``axis``, ``keepdims``), the TensorFlow functions of Keras 2
code (``tf.reshape``, ``tf.concat``, ``tf.reduce_mean``, ``tf.nn.relu``), and a tensor's
``shape``; each mapped to its rule through ``ops.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Location
from .ops import is_operand, made
from .values import BATCH, Const, Unknown

if TYPE_CHECKING:
    from .reader import Reader

_ACTIVATIONS = {"relu", "sigmoid", "tanh", "gelu", "silu", "swish", "elu", "selu", "softplus", "softsign",
                "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "relu6", "mish", "log_sigmoid", "linear"}
_ELEMENTWISE = {"exp", "log", "sqrt", "rsqrt", "square", "abs", "absolute", "negative", "sin", "cos", "erf", "sign",
                "reciprocal", "floor", "ceil", "round", "clip", "power", "log1p", "cumsum", "tril", "triu"}
_SAME = {"cast", "convert_to_tensor", "stop_gradient", "identity", "convert_to_numpy", "copy"}
_REDUCTIONS = {"mean": "mean", "sum": "sum", "max": "max", "min": "min", "prod": "prod", "amax": "max",
               "amin": "min", "reduce_mean": "mean", "reduce_sum": "sum", "reduce_max": "max", "reduce_min": "min",
               "reduce_prod": "prod", "var": "mean", "std": "mean", "logsumexp": "sum", "reduce_logsumexp": "sum"}
_CREATION = {"ones", "zeros", "empty", "normal", "uniform", "random_normal", "random_uniform", "truncated_normal",
             "full"}
_BINARY = {"add": "Add", "subtract": "Sub", "multiply": "Mult", "divide": "Div", "true_divide": "Div",
           "matmul": "MatMult"}


class KerasOps:
    def __init__(self, reader: Reader):
        self.reader = reader
        self.ops = reader.ops

    def call(self, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """``ops.mean(x, axis=1)``, ``keras.backend.int_shape(x)``, ``activations.relu(x)``."""
        name = path.rpartition(".")[2]
        if name == "image_data_format":
            return self.reader.data_format
        if name in ("get", "serialize", "deserialize") and args and not is_operand(args[0]):
            return args[0]  # keras.activations.get("relu"): an activation, as a layer's argument
        return self._op(name, f"ops.{name}", args, kwargs, where)

    def random(self, name: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """``keras.random.normal((2, 16))``, ``ops.ones(shape)``, ``tf.zeros(shape)``: a tensor
        of that shape (its first size the batch's when it is ``tf.shape(x)[0]``)."""
        shape = args[0] if args else kwargs.get("shape")
        return made(list(shape) if isinstance(shape, (list, tuple)) else [shape], False, name, where)

    def tensorflow(self, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        name = path.rpartition(".")[2]
        renamed = {"concat": "concatenate", "range": "arange", "reduce_mean": "reduce_mean"}.get(name, name)
        if path.startswith("random.") and name in _CREATION:
            return self.random(f"tf.{path}", args, kwargs, where)
        if path.startswith(("random.", "data.", "io.", "image.", "config.", "summary.", "distribute.", "saved_model.",
                            "train.", "test.", "debugging.")) or name in ("Variable", "constant", "function"):
            return Unknown(f"tf.{path}(...) is not read", where)
        return self._op(renamed, f"tf.{path}", args, kwargs, where)

    def _op(self, name: str, spelled: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        ops = self.ops
        x = args[0] if args else kwargs.get("x", kwargs.get("tensor", kwargs.get("input")))
        rest = list(args[1:])
        if isinstance(x, Unknown):
            return x
        if name in ("shape", "int_shape", "get_shape"):
            return _shape(x) if is_operand(x) else Unknown(f"{spelled} of something that is not a tensor", where)
        if name == "arange" or name == "range":
            return self._arange(args, kwargs, spelled, where)
        if name in _CREATION:
            return self.random(spelled, args, kwargs, where)
        if name in ("concatenate", "concat", "stack"):
            axis = rest[0] if rest else kwargs.get("axis", 0)
            items = self.reader.interp.iterate(x, where)
            if name == "stack" or isinstance(items, Unknown):
                return items if isinstance(items, Unknown) else Unknown(f"{spelled} is not followed", where)
            return ops.concat(items, axis, spelled, where)
        if not is_operand(x):
            return Unknown(f"{spelled} of something that is not a tensor", where)
        unknown = next((v for v in [*rest, *kwargs.values()] if isinstance(v, Unknown)), None)
        if unknown is not None:  # ops.transpose(x, perm) with a perm not known from the code
            return unknown
        if name in _SAME:
            return x
        if name == "broadcast_to":
            shape = rest[0] if rest else kwargs.get("shape")
            return ops.broadcast(x, list(shape) if isinstance(shape, (list, tuple)) else [shape], spelled, where)
        if name in _BINARY:
            other = rest[0] if rest else kwargs.get("x2", kwargs.get("y", kwargs.get("b")))
            if name == "matmul" and (kwargs.get("transpose_b") or kwargs.get("transpose_a")):
                return Unknown(f"{spelled} with transpose_a/b is not followed", where)
            return ops.binary(_BINARY[name], x, other, where)
        if name in ("reshape",):
            shape = rest[0] if rest else kwargs.get("newshape", kwargs.get("shape"))
            return ops.reshape(x, _dims(shape), spelled, where)
        if name == "transpose":
            axes = rest[0] if rest else kwargs.get("axes", kwargs.get("perm"))
            if axes is None:
                return Unknown(f"{spelled} without axes reverses the batch axis too", where)
            return ops.permute(x, list(axes), spelled, where)
        if name == "expand_dims":
            return ops.unsqueeze(x, rest[0] if rest else kwargs.get("axis"), spelled, where)
        if name == "squeeze":
            return ops.squeeze(x, rest[0] if rest else kwargs.get("axis"), spelled, where)
        if name in _REDUCTIONS:
            axis = rest[0] if rest else kwargs.get("axis")
            keepdims = rest[1] if len(rest) > 1 else kwargs.get("keepdims", False)
            return ops.reduce(x, axis, keepdims, _REDUCTIONS[name], spelled, where)
        if name in ("softmax", "log_softmax"):
            axis = rest[0] if rest else kwargs.get("axis", -1)
            if name == "log_softmax":
                return ops.unary_function(x, spelled, where)
            return ops.apply("Softmax", [x], {"axis": axis}, "softmax", spelled, where)
        if name in _ACTIVATIONS:
            return ops.apply("Activation", [x], {"activation": name}, name, spelled, where)
        if name in _ELEMENTWISE:
            return ops.unary_function(x, spelled, where)
        return Unknown(f"{spelled}(...) is not followed", where)

    def _arange(self, args: list[Any], kwargs: dict[str, Any], spelled: str, where: Location) -> Any:
        start = kwargs.get("start", args[0] if args else 0)
        stop = kwargs.get("stop", kwargs.get("limit", args[1] if len(args) > 1 else None))
        step = kwargs.get("step", kwargs.get("delta", args[2] if len(args) > 2 else 1))
        if stop is None:
            start, stop = 0, start
        if not all(isinstance(v, int) for v in (start, stop, step)) or step == 0:
            return Unknown(f"{spelled} with values that are not known", where)
        return Const((len(range(start, stop, step)),), False, True, spelled)

    def attribute(self, x: Any, name: str, where: Location) -> Any:
        if name == "shape":
            return _shape(x)
        if name == "ndim":
            return len(x.shape) + getattr(x, "batched", False)
        if name == "dtype":
            return "int32" if getattr(x, "integer", False) else "float32"
        return Unknown(f"the attribute {name} of a tensor", where)


def _shape(x: Any) -> tuple:
    dims = tuple(Unknown("a size the code leaves unknown") if d is None else d for d in x.shape)
    return (BATCH, *dims) if getattr(x, "batched", False) else dims


def _dims(shape: Any) -> list[Any]:
    if isinstance(shape, (list, tuple)):
        return list(shape)
    return [shape]
