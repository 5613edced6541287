"""The meta-device trace takes normalizations' shapes without torch's slow meta decompositions
(importers/_torch_trace.py): the shapes must still be a real forward's, and a normalization
that does not fit its input must still fail as torch fails."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn

import learnable
from learnable.errors import LearnableError
from learnable.importers._torch_trace import trace
from learnable.inputs import InputSpec

pytestmark = pytest.mark.frameworks

FITTING = {
    "batch norm 1d": (nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU()), (6,)),
    "batch norm 2d, no stats": (nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8, track_running_stats=False)),
                                (3, 12, 12)),
    "batch norm 3d, no affine": (nn.Sequential(nn.Conv3d(2, 4, 3), nn.BatchNorm3d(4, affine=False)), (2, 6, 6, 6)),
    "instance norm": (nn.Sequential(nn.Conv2d(3, 5, 1), nn.InstanceNorm2d(5, affine=True, track_running_stats=True)),
                      (3, 7, 9)),
    "layer norm over two axes": (nn.Sequential(nn.Conv1d(4, 6, 3), nn.LayerNorm([6, 8])), (4, 10)),
    "group norm": (nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.GroupNorm(4, 12)), (3, 5, 5)),
}


def real_shapes(model: nn.Module, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Each submodule's output shape from a real forward on CPU (batch 1, eval mode)."""
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape))) for m in model]
    with torch.no_grad():
        model.eval()(torch.zeros((1, *input_shape)))
    for hook in hooks:
        hook.remove()
    return shapes


@pytest.mark.parametrize("name", sorted(FITTING))
def test_traced_shapes_are_a_real_forwards(name):
    model, shape = FITTING[name]
    calls = trace(model, [InputSpec(shape)])
    assert [calls[id(m)][0].output for m in model] == real_shapes(model, shape)


NOT_FITTING = {
    "batch norm of other channels": (nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(16)), (3, 12, 12)),
    "layer norm of another shape": (nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(5)), (4,)),
    "group norm of other channels": (nn.Sequential(nn.Conv2d(3, 10, 1), nn.GroupNorm(4, 12)), (3, 4, 4)),
}


@pytest.mark.parametrize("name", sorted(NOT_FITTING))
def test_a_normalization_that_does_not_fit_fails_as_torch_does(name):
    model, shape = NOT_FITTING[name]
    with pytest.raises(Exception):  # the oracle: torch itself refuses this forward
        real_shapes(model, shape)
    with pytest.raises(LearnableError, match="its forward failed on the meta device"):
        learnable.count(model, input_shape=shape)
