"""The table of ONNX ops that a layer rule explains (see ``onnx_model.py``): each reads a
node's attributes and weights into a rule's arguments, or says why it does not fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import onnx
from onnx import helper

from ..rules import Shape
from ._onnx_shapes import Shapes, text
from ._onnx_tensor import Tensor

# ---- one ONNX node, as the table reads it ------------------------------------------------------


class NoFit(Exception):
    """The node is not what its rule describes (the reason says why); it is counted from its tensors."""


@dataclass
class Op:
    node: onnx.NodeProto
    weights: dict[int, Tensor]  # input slot → the initializer read there (through aliases)
    shapes: Shapes

    @property
    def type(self) -> str:
        return self.node.op_type

    def attr(self, name: str, default: Any = None) -> Any:
        for attribute in self.node.attribute:
            if attribute.name == name:
                value = helper.get_attribute_value(attribute)
                return text(value) if isinstance(value, bytes) else value
        return default

    def shape(self, slot: int) -> Shape | None:
        names = self.node.input
        return self.shapes.example(names[slot]) if slot < len(names) and names[slot] else None

    def weight(self, slot: int, rank: int | None = None) -> Tensor:
        tensor = self.weights.get(slot)
        if tensor is None or (rank is not None and len(tensor.dims) != rank):
            raise NoFit(f"its input {slot} is not {f'a {rank}-D' if rank else 'an'} initializer")
        return tensor

    def data(self, slot: int) -> None:
        if slot in self.weights:
            raise NoFit(f"its input {slot} is an initializer too")


def _padding(op: Op, rank: int) -> Any:
    auto = op.attr("auto_pad", "NOTSET")
    if auto == "VALID":
        return 0
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        return "same"
    pads = list(op.attr("pads", [0] * 2 * rank))
    if pads[:rank] != pads[rank:]:
        raise NoFit(f"its padding {pads} is not the same before and after")
    return tuple(pads[:rank])


def _conv(op: Op) -> tuple[str, dict, Shape | None]:
    op.data(0)
    w = op.weight(1)
    rank, group = len(w.dims) - 2, op.attr("group", 1)
    if rank not in (1, 2, 3):
        raise NoFit(f"its weight {list(w.dims)} has {rank} spatial axes")
    kwargs = {"out_channels": w.dims[0], "kernel_size": tuple(op.attr("kernel_shape", w.dims[2:])),
              "stride": tuple(op.attr("strides", [1] * rank)), "dilation": tuple(op.attr("dilations", [1] * rank)),
              "groups": group, "bias": 2 in op.weights}
    if op.type == "Conv":
        kwargs.update(in_channels=w.dims[1] * group, padding=_padding(op, rank))
        return f"Conv{rank}d", kwargs, op.shape(0) or (w.dims[1] * group, *[None] * rank)
    if op.attr("output_shape") or op.attr("auto_pad", "NOTSET") != "NOTSET":
        raise NoFit("it sets output_shape or auto_pad, which PyTorch's ConvTranspose does not take")
    kwargs.update(in_channels=w.dims[0], out_channels=w.dims[1] * group, padding=_padding(op, rank),
                  output_padding=tuple(op.attr("output_padding", [0] * rank)))
    return f"ConvTranspose{rank}d", kwargs, op.shape(0) or (w.dims[0], *[None] * rank)


def _gemm(op: Op) -> tuple[str, dict, Shape | None]:
    op.data(0)
    if op.attr("transA", 0):
        raise NoFit("transA=1 multiplies the weight from the left")
    w = op.weight(1, 2)
    out, features = w.dims if op.attr("transB", 0) else w.dims[::-1]
    bias = op.weights.get(2)
    if bias is not None and bias.dims not in ((out,), (1, out)):
        raise NoFit(f"its C {list(bias.dims)} is not one bias per output")
    return "Linear", {"in_features": features, "out_features": out, "bias": bias is not None}, op.shape(0) or (features,)


def _matmul(op: Op) -> tuple[str, dict, Shape | None]:
    op.data(0)
    w = op.weight(1, 2)  # (in, out): nn.Linear's weight transposed, the same elements
    return "Linear", {"in_features": w.dims[0], "out_features": w.dims[1], "bias": False}, op.shape(0) or (w.dims[0],)


def _gather(op: Op) -> tuple[str, dict, Shape | None]:
    table = op.weight(0, 2)
    op.data(1)
    if op.attr("axis", 0) != 0 or op.shape(1) is None:
        raise NoFit("it does not look rows up in a table by known indices")
    return "Embedding", {"num_embeddings": table.dims[0], "embedding_dim": table.dims[1]}, op.shape(1)


def _layer_norm(op: Op) -> tuple[str, dict, Shape | None]:
    scale, x = op.weight(1), op.shape(0)
    if not x:
        raise NoFit("its input's shape is unknown")
    axis = op.attr("axis", -1) % (len(x) + 1)  # ONNX axes count the batch
    if len(x) + 1 - axis != len(scale.dims):
        raise NoFit(f"its scale {list(scale.dims)} is not shaped like the normalized axes")
    return "LayerNorm", {"normalized_shape": scale.dims, "bias": 2 in op.weights}, x


def _instance_norm(op: Op) -> tuple[str, dict, Shape | None]:
    scale, _, x = op.weight(1, 1), op.weight(2, 1), op.shape(0)
    if not x or not 2 <= len(x) <= 4:
        raise NoFit("its input is not (channels, 1 to 3 spatial axes)")
    return f"InstanceNorm{len(x) - 1}d", {"num_features": scale.dims[0], "affine": True}, x


def _group_norm(op: Op) -> tuple[str, dict, Shape | None]:
    scale, _, x = op.weight(1, 1), op.weight(2, 1), op.shape(0)
    if not x or x[0] != scale.dims[0]:
        raise NoFit("its scale is not one value per channel (opset 18 kept one per group)")
    return "GroupNorm", {"num_groups": op.attr("num_groups"), "num_channels": scale.dims[0]}, x


TABLE = {"Conv": _conv, "ConvTranspose": _conv, "Gemm": _gemm, "MatMul": _matmul, "Gather": _gather,
          "LayerNormalization": _layer_norm, "InstanceNormalization": _instance_norm,
          "GroupNormalization": _group_norm}


# ---- the rows ---------------------------------------------------------------------------------


