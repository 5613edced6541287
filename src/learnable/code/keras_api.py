"""Keras as code builds it: layers (``layers.Conv2D(32, 3)``), ``keras.Input``, the
functional API (a layer called on tensors, ``layers.add([a, b])``, ``keras.Model(inputs,
outputs)``), ``Sequential`` (a list, or ``.add``), and the classes the code derives from
``keras.layers.Layer`` or ``keras.Model``, with ``build``, ``add_weight`` and ``call``.

Layers are named as Keras names them: at construction, from one counter per name that
every layer and top-level operation shares (``dense``, ``dense_1``). Code written for Keras 2
is read as Keras 2 built it where the versions differ (``input_shape=`` and
``input_length=`` state the input; ``AveragePooling2D()`` pools 2×2), and the row says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Location, RuleError, SpecError
from ..rules import KERAS, lookup
from .emit import tensors_in
from . import keras_layers
from .keras_ops import KerasOps
from .libraries import Method
from .names import snake_case
from .ops import is_operand
from .arguments import bound_arguments, layer_arguments
from .values import BATCH, MISSING, Const, Layer, Module, Param, Tensor, Unknown

if TYPE_CHECKING:
    from .reader import Reader

_MERGES = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average", "maximum": "Maximum",
           "minimum": "Minimum", "concatenate": "Concatenate", "dot": "Dot"}
_KERAS2_SHAPES = ("input_shape", "batch_input_shape", "input_dim", "batch_shape")
_INTEGER = {"int32", "int64", "int", "int16", "int8", "uint8", "int_"}
# Keras 2's default where Keras 3 requires the argument
_KERAS2_DEFAULTS = {f"AveragePooling{n}D": ("pool_size", 2) for n in (1, 2, 3)}
_IGNORED_MODULES = ("utils.", "optimizers.", "losses.", "metrics.", "callbacks.", "initializers.", "regularizers.",
                    "constraints.", "datasets.", "preprocessing.", "mixed_precision.", "saving.",
                    "models.load_model", "backend.clear_session", "config.", "export.", "visualization.")


class KerasNames:
    """Keras's automatic names: ``dense``, ``dense_1``, ... one counter per name."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def auto(self, base: str) -> str:
        n = self.counters.get(base, 0)
        self.counters[base] = n + 1
        return base if n == 0 else f"{base}_{n}"


class KerasAPI:
    def __init__(self, reader: Reader):
        self.reader = reader
        self.names = KerasNames()
        self.ops = KerasOps(reader)

    # ---- library calls -------------------------------------------------------------------

    def call_lib(self, path: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        if path.startswith("tensorflow."):
            return self.ops.tensorflow(path[len("tensorflow."):], args, kwargs, where)
        rest = path[len("keras."):]
        if rest in ("Input", "layers.Input"):
            return self.input(args, kwargs, where)
        if rest == "Sequential":
            return self.sequential(args, kwargs, where)
        if rest in ("Model", "Functional"):
            return self.functional(args, kwargs, where)
        if rest.startswith("layers."):
            name = rest[len("layers."):]
            if name in _MERGES:
                return self.merge(name, args, kwargs, where)
            return self.construct(name, args, kwargs, where)
        if rest.startswith(("ops.", "backend.", "activations.", "random.", "KerasTensor")):
            return self.ops.call(rest, args, kwargs, where)
        if rest.endswith("set_image_data_format") and args:
            self.reader.set_data_format(args[0], where)
            return None
        if rest.startswith("applications."):
            return Unknown(f"keras.{rest}(...) is not read from code: learnable reads the layers you write; count "
                           "such a model from a saved file or with FILE.py:NAME", where, maybe_module=True)
        if rest.startswith(_IGNORED_MODULES):
            return Unknown(f"keras.{rest}(...)", where)
        return Unknown(f"keras.{rest}(...) is not read", where, maybe_module=rest.rpartition(".")[2][:1].isupper())

    # ---- layers --------------------------------------------------------------------------

    def construct(self, name: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        rule = _rule(name)
        if rule is None:
            raise SpecError(f"layers.{name} has no rule in learnable, so its parameters cannot be counted from the "
                            "code; count the model with FILE.py:NAME (which runs your file, with Keras installed)",
                            where)
        kwargs = dict(kwargs)
        given_name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        keras2, note = self._keras2_input(rule, name, args, kwargs)
        note = self._keras2_default(rule.name, args, kwargs) or note
        if rule.is_input and keras2 is not None:  # InputLayer(input_shape=(28, 28, 1)): Keras 2's spelling
            kwargs["shape"], keras2 = keras2, None
        args, kwargs = layer_arguments(self.reader, rule, f"layers.{name}", args, kwargs, where)
        bound = bound_arguments(rule, f"layers.{name}", args, kwargs, where)
        layer_name = given_name if isinstance(given_name, str) else self.names.auto(snake_case(rule.name))
        return self.reader.finish(Layer(KERAS, rule, name, tuple(args), kwargs, where, name=layer_name,
                                        trainable=trainable is not False, note=note, bound=bound, keras2_input=keras2))

    def _keras2_input(self, rule: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, str]:
        """Keras 2's ways to state the input on a layer (``Dense(64, input_shape=(784,))``,
        ``Embedding(10000, 32, input_length=500)``): taken out, kept as the layer's input."""
        own = {a.name for a in rule.args}
        shape = None
        for key in _KERAS2_SHAPES:
            if key in kwargs and key not in own:
                value = kwargs.pop(key)
                if key in ("batch_input_shape", "batch_shape") and isinstance(value, (list, tuple)):
                    value = tuple(value)[1:]
                elif key == "input_dim":
                    value = (value,)
                shape = tuple(value) if isinstance(value, (list, tuple)) else (value,)
        kwargs.pop("batch_size", None)
        if kwargs.get("input_length") is not None:  # (Keras 3's Embedding takes it, and ignores it)
            length = kwargs.pop("input_length")
            return (length,), "input_length= is Keras 2's (Keras 3 ignores it): read as Keras 2 reads it, the input's length"
        return shape, ""

    def _keras2_default(self, rule_name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
        default = _KERAS2_DEFAULTS.get(rule_name)
        if default is None or args or default[0] in kwargs:
            return ""
        kwargs[default[0]] = default[1]
        return f"{default[0]} not given: Keras 2's default {default[1]} (Keras 3 requires it)"

    def input(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Tensor:
        shape = args[0] if args else kwargs.get("shape")
        if shape is None and kwargs.get("batch_shape") is not None:
            shape = tuple(kwargs["batch_shape"])[1:]
        if shape is None and kwargs.get("tensor") is not None:
            return kwargs["tensor"]
        if isinstance(shape, Unknown) and self.reader.option_inputs:  # input_shape=x_train.shape[1:], and --input
            shape = self.reader.option_inputs.pop(0)
            self.reader.used_option_inputs = True
        shape = self.reader.require_value(shape, "the input's shape", where)
        shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)
        for size in shape:
            self.reader.require_value(size, "the input's shape", where)
        name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else self.names.auto("input_layer")
        dtype = kwargs.get("dtype")
        integer = isinstance(dtype, str) and dtype in _INTEGER
        rule = lookup("Input")
        layer = Layer(KERAS, rule, "InputLayer", (), {"shape": shape}, where, name=name)  # in model.layers
        return self.reader.emitter.emit(rule, self.reader.emitter.unique(name), [], {"shape": shape}, where=where,
                                        integer=integer, framework=KERAS, owner=layer)

    def merge(self, name: str, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        """``layers.add([a, b])``: the layer, made and called on its inputs."""
        inputs = args[0] if args else kwargs.pop("inputs", None)
        layer = self.construct(_MERGES[name], list(args[1:]), {k: v for k, v in kwargs.items() if k != "inputs"},
                               where)
        return self.call(layer, [inputs], {}, where)

    # ---- models --------------------------------------------------------------------------

    def sequential(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Module:
        layers = args[0] if args else kwargs.get("layers")
        name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else self.names.auto("sequential")
        model = Module(KERAS, "Sequential", name=name, where=where, base="Sequential",
                       trainable=kwargs.get("trainable") is not False)  # (its own flag: not its layers')
        if layers is not None:
            items = self.reader.interp.iterate(layers, where)
            if isinstance(items, Unknown):
                raise SpecError(f"Sequential of layers not known from the code: {items.why}", where)
            for layer in items:
                self.add(model, layer, where)
        return self.reader.finish(model)

    def add(self, model: Module, layer: Any, where: Location) -> None:
        if isinstance(layer, Tensor) and not model.children:  # keras.Input(...) first
            model.input_shape = layer.shape
            model.inputs = layer
            return
        if isinstance(layer, Layer) and layer.rule.is_input:  # InputLayer(shape=...)
            model.input_shape = layer.bound.get("shape")
            model.input_name = layer.name
            return
        if not isinstance(layer, (Layer, Module)):
            raise SpecError(f"Sequential.add() takes a layer, got {_describe(layer)}", where)
        if not model.children and model.input_shape is None and isinstance(layer, Layer) and layer.keras2_input:
            model.input_shape = layer.keras2_input  # Keras makes an InputLayer for it, named as layers are
            model.input_name = self.names.auto("input_layer")
        model.children[layer.name] = layer

    def functional(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        inputs = args[0] if args else kwargs.get("inputs")
        outputs = args[1] if len(args) > 1 else kwargs.get("outputs")
        if inputs is None and outputs is None:
            return Unknown("keras.Model() without inputs and outputs", where)
        for what, value in (("inputs", inputs), ("outputs", outputs)):
            unknown = _unknown_in(value)
            if unknown is not None:
                raise SpecError(f"keras.Model's {what} are not known from the code: {unknown.why}",
                                unknown.where or where)
        name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else self.names.auto("functional")
        return self.reader.finish(Module(KERAS, "Functional", name=name, where=where, inputs=inputs, outputs=outputs,
                                         trainable=kwargs.get("trainable") is not False))

    def instantiate(self, cls: Any, bases: list[str], args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        base = "Model" if any(b in ("keras.Model", "keras.Functional") for b in bases) else "Layer"
        module = Module(KERAS, "user", cls=cls, base=base, where=where)
        module.name = self.names.auto(snake_case(cls.name))
        return self.reader.initialize(module, self._base_init, args, kwargs, where)

    def _base_init(self, module: Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> None:
        if isinstance(kwargs.get("name"), str):
            module.name = kwargs["name"]
        if kwargs.get("trainable") is False:
            module.trainable = False
        if kwargs.get("inputs") is not None or (module.base == "Model" and len(args) >= 2):
            model = self.functional(args, kwargs, where)  # subclassing Model with a functional __init__
            module.inputs, module.outputs = model.inputs, model.outputs

    # ---- attributes ----------------------------------------------------------------------

    def attribute(self, owner: Any, name: str, where: Location) -> Any:
        if isinstance(owner, Layer):
            return self._layer_attribute(owner, name, where)
        value = self.reader.own_attribute(owner, name, where)
        return self.base_method(owner, name, where) if value is MISSING else value

    def _layer_attribute(self, layer: Layer, name: str, where: Location) -> Any:
        if name in layer.bound:
            return layer.bound[name]
        if name == "name":
            return layer.name
        if name == "trainable":
            return layer.trainable
        return self._common(layer, name, where)

    def base_method(self, owner: Module, name: str, where: Location) -> Any:
        if name == "__init__":
            return Method("Layer.__init__", lambda a, k, w: self._base_init(owner, a, k, w))
        if name in ("add_weight", "add_variable"):
            return Method(name, lambda a, k, w: self._weight(a, k, w))
        if name == "add" and owner.kind == "Sequential":
            return Method("Sequential.add", lambda a, k, w: self.add(owner, a[0] if a else k.get("layer"), w))
        if name == "build":
            return Method("build", lambda a, k, w: self._build(owner, a, k, w))
        if name == "layers":
            return self.layers_of(owner)
        if name == "get_layer":
            return Method("get_layer", lambda a, k, w: self._get_layer(owner, a, k, w))
        if name in ("inputs", "input"):
            return owner.inputs if owner.inputs is not None else Unknown("the model's input", where)
        if name in ("outputs", "output"):
            return owner.outputs if owner.outputs is not None else Unknown("the model's output", where)
        if name == "name":
            return owner.name
        if name == "trainable":
            return owner.trainable
        if name == "__class__":
            return owner.cls
        if name in ("call", "compute_output_shape", "get_config", "from_config", "get_build_config"):
            return Method(name, lambda a, k, w: {} if name == "get_config" else None)
        return self._common(owner, name, where)

    def _common(self, owner: Any, name: str, where: Location) -> Any:
        if name in ("summary", "compile", "fit", "evaluate", "predict", "save", "save_weights", "load_weights",
                    "train_on_batch", "test_on_batch", "set_weights", "reset_states", "add_loss", "add_metric",
                    "count_params", "get_weights", "to_json", "predict_on_batch", "export"):
            return Method(name, lambda a, k, w: Unknown(f"{name}() of a model", w))
        if name in ("trainable_weights", "weights", "non_trainable_weights", "variables", "trainable_variables",
                    "built", "dtype", "losses", "metrics", "input_spec", "supports_masking", "output_shape",
                    "compute_dtype", "metrics_names", "history"):
            return Unknown(f"the {name} of a Keras {getattr(owner, 'type_name', 'layer')}", where)
        raise SpecError(f"a Keras {getattr(owner, 'type_name', 'layer')} has no attribute '{name}' that learnable "
                        "reads", where)

    def _weight(self, args: list[Any], kwargs: dict[str, Any], where: Location) -> Param:
        shape = kwargs.get("shape", args[1] if len(args) > 1 else None)
        if shape is None and args and not isinstance(args[0], str):
            shape = args[0]
        name = kwargs.get("name", args[0] if args and isinstance(args[0], str) else "")
        trainable = kwargs.get("trainable", True)
        shape = tuple(shape) if isinstance(shape, (list, tuple)) else (shape,) if shape is not None else ()
        unknown = next((d for d in shape if isinstance(d, Unknown) or d is None or d is BATCH), None)
        if unknown is not None:
            why = unknown if isinstance(unknown, Unknown) else Unknown("a weight's shape is not known", where)
            return Param((), where=where, unknown=why, name=name)
        return Param(tuple(shape), trainable is not False, name=name if isinstance(name, str) else "", where=where,
                     fixed=trainable is False)

    def _build(self, owner: Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> None:
        shape = args[0] if args else kwargs.get("input_shape")
        if isinstance(shape, (list, tuple)) and shape and not isinstance(shape[0], (list, tuple)):
            owner.input_shape = tuple(shape)[1:]
        return None

    def layers_of(self, model: Module) -> list[Any]:
        """``model.layers``: a functional model's as Keras orders them (keras_layers), others'
        in the order the code added or set them."""
        if model.outputs is not None:
            return keras_layers.functional_layers(self.reader.emitter, model)
        return [c for c in model.children.values() if isinstance(c, (Layer, Module))]

    def _get_layer(self, model: Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        name = args[0] if args else kwargs.get("name")
        index = args[1] if len(args) > 1 else kwargs.get("index")
        layers = self.layers_of(model)
        if isinstance(index, int) and not isinstance(index, bool) and name is None:
            if 0 <= index < len(layers):
                return layers[index]
            raise SpecError(f"get_layer(index={index}) of a model of {len(layers)} layers", where)
        found = next((layer for layer in layers if layer.name == name), None)
        if found is None:
            raise SpecError(f"model '{model.name}' has no layer named {name!r} (its layers: "
                            f"{', '.join(repr(layer.name) for layer in layers[:12])})", where)
        return found

    def set_attribute(self, owner: Any, name: str, value: Any, where: Location) -> None:
        if name == "trainable":
            keras_layers.set_trainable(owner, self.reader.flag(value, where), self.layers_of)
            return
        if isinstance(owner, Layer):
            return
        if isinstance(value, (Layer, Module)):
            owner.children[name] = value
        elif isinstance(value, Param):
            value.name = value.name or name
            owner.params[name] = value
        else:
            owner.attrs[name] = value

    def get_item(self, owner: Any, index: Any, where: Location) -> Any:
        if isinstance(owner, Module) and isinstance(index, int):
            layers = list(owner.children.values())
            if -len(layers) <= index < len(layers):
                return layers[index]
        return Unknown(f"an item of a Keras {getattr(owner, 'type_name', 'layer')}", where)

    def set_item(self, owner: Module, index: Any, value: Any, where: Location) -> None:
        pass

    def iterate(self, owner: Module, where: Location) -> Any:
        return Unknown(f"iterating over a Keras {owner.type_name}", where)

    def tensor_attribute(self, x: Any, name: str, where: Location) -> Any:
        return self.ops.attribute(x, name, where)

    def param_owner_path(self, param: Param) -> str:
        block = self.reader.emitter.block
        return block.name if block is not None else ""

    # ---- calls ---------------------------------------------------------------------------

    def call(self, obj: Layer | Module, args: list[Any], kwargs: dict[str, Any], where: Location) -> Any:
        return self.reader.keras_model.call(obj, args, kwargs, where)


def _rule(name: str) -> Any:
    try:
        rule = lookup(name, KERAS)
    except RuleError:
        return None
    return rule if rule.framework == KERAS and name in (rule.name, *rule.aliases) else None


def _unknown_in(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    return next((u for u in map(_unknown_in, items) if u is not None), None)


def _describe(value: Any) -> str:
    from .libraries import describe

    return describe(value)


__all__ = ["Const", "KerasAPI", "is_operand", "tensors_in"]
