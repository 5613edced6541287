"""The ResNet zoo specs against the frameworks, to the parameter.

zoo:resnet50 is keras.applications.ResNet50; zoo:resnet18 and zoo:resnet50_torch are
torchvision's resnet18 and resnet50, written again below in plain torch (torchvision is not
installed) after torchvision/models/resnet.py: BasicBlock, Bottleneck, _make_layer's
downsample. Residual sums make Keras's layer order differ from the spec's, so per-layer
counts are compared as sorted lists, and, stronger, each layer's tensors as a multiset.
"""

from __future__ import annotations


import pytest

import learnable
from frameworks import assert_totals_match_keras
from conftest import assert_formulas_hold

# zoo name → (convention, total params, non-trainable params, buffers); CONVENTIONS.md §3
PUBLISHED = {
    "resnet50": ("keras", 25_636_712, 53_120, 0),  # keras.applications.ResNet50(weights=None)
    "resnet18": ("pytorch", 11_689_512, 0, 9_620),  # torchvision ResNet18_Weights num_params
    "resnet50_torch": ("pytorch", 25_557_032, 0, 53_173),  # torchvision ResNet50_Weights num_params
}
TORCH_LAYOUTS = {"resnet18": ("basic", (2, 2, 2, 2)), "resnet50_torch": ("bottleneck", (3, 4, 6, 3))}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_totals_and_printed_arithmetic(name):
    convention, total, frozen, buffers = PUBLISHED[name]
    report = learnable.count(f"zoo:{name}")
    assert report.convention == convention
    assert (report.total_params, report.trainable_params, report.non_trainable_params, report.total_buffers) == (
        total, total - frozen, frozen, buffers)
    for row in report.layers:
        assert_formulas_hold(row)


def test_keras_and_torch_resnet50_differ_by_conv_biases_and_moving_statistics():
    """CONVENTIONS.md §3.1: Keras 25,636,712 = torch 25,557,032 + 26,560 conv biases + 53,120."""
    keras, torch = learnable.count("zoo:resnet50"), learnable.count("zoo:resnet50_torch")
    biases = sum(w.size for row in keras.layers if row.type == "Conv2D" for w in row.weights if w.name == "bias")
    assert biases == 26_560
    assert keras.total_params == torch.total_params + biases + keras.non_trainable_params


# ---- Keras ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_pair():
    keras = pytest.importorskip("keras")
    return learnable.count("zoo:resnet50"), keras.applications.ResNet50(weights=None)


@pytest.mark.frameworks
def test_resnet50_counts_match_keras(keras_pair):
    report, model = keras_pair
    assert_totals_match_keras(report, model)


@pytest.mark.frameworks
def test_resnet50_layers_match_keras(keras_pair):
    report, model = keras_pair
    weighted = [row for row in report.layers if row.params]
    layers = [layer for layer in model.layers if layer.count_params()]
    assert sorted(row.params for row in weighted) == sorted(layer.count_params() for layer in layers)
    ours = sorted(tuple((w.name, tuple(w.shape), w.trainable) for w in row.weights) for row in weighted)
    theirs = sorted(tuple((w.name, tuple(w.shape), w.trainable) for w in layer.weights) for layer in layers)
    assert ours == theirs
    # the stem and the head carry Keras's names; each stage's subtotal is Keras's conv{n}_* layers'
    for row in report.layers:
        if "/" not in row.name and row.name != "input":
            assert model.get_layer(row.name).count_params() == row.params, row.name
    for block in report.blocks:
        if block.parent is None:
            stage = sum(layer.count_params() for layer in model.layers if layer.name.startswith(block.name + "_"))
            assert stage == block.params, block.name


@pytest.mark.frameworks
def test_resnet50_output_shape_matches_keras(keras_pair):
    report, model = keras_pair
    assert report.layers[-1].output_shape == tuple(model.output.shape[1:]) == (1000,)


# ---- PyTorch: torchvision's ResNet in plain torch (reference_models.py) -------------------


def tensors(module, recurse: bool) -> tuple[int, int]:
    """(parameters, buffers) as PyTorch counts them."""
    return (sum(p.numel() for p in module.parameters(recurse)), sum(b.numel() for b in module.buffers(recurse)))


@pytest.fixture(scope="module", params=sorted(TORCH_LAYOUTS))
def torch_pair(request):
    pytest.importorskip("torch")
    from reference_models import torchvision_resnet

    return learnable.count(f"zoo:{request.param}"), torchvision_resnet(*TORCH_LAYOUTS[request.param])


@pytest.mark.frameworks
def test_torch_resnets_count_as_torch(torch_pair):
    report, model = torch_pair
    assert (report.total_params, report.total_buffers) == tensors(model, True)


@pytest.mark.frameworks
def test_torch_resnets_match_leaf_modules(torch_pair):
    report, model = torch_pair
    leaves = [m for m in model.modules() if not list(m.children())]
    weighted = [m for m in leaves if sum(tensors(m, False))]
    rows = [row for row in report.layers if row.params or row.buffers]
    assert sorted(row.params for row in rows) == sorted(tensors(m, False)[0] for m in weighted)
    ours = sorted(tuple(sorted((w.name, tuple(w.shape), w.buffer) for w in row.weights)) for row in rows)
    theirs = sorted(tuple(sorted([(n, tuple(p.shape), False) for n, p in m.named_parameters(recurse=False)]
                                 + [(n, tuple(b.shape), True) for n, b in m.named_buffers(recurse=False)]))
                    for m in weighted)
    assert ours == theirs
    # the top level carries torchvision's names (conv1, bn1, layer1 ... layer4, fc; resnet18's
    # layer1 is its two blocks layer1_1 and layer1_2): each child counts what those rows count
    tops = [(r.name, r.params, r.buffers) for r in report.layers if "/" not in r.name]
    tops += [(b.name, b.params, b.buffers) for b in report.blocks if b.parent is None]
    for name, child in model.named_children():
        mine = [t for t in tops if t[0] == name or t[0].startswith(name + "_")]
        assert mine, name
        assert tensors(child, True) == (sum(t[1] for t in mine), sum(t[2] for t in mine)), name


@pytest.mark.frameworks
def test_torch_resnets_output_shape_matches_a_forward_pass(torch_pair):
    import torch

    report, model = torch_pair
    with torch.no_grad():
        out = model(torch.zeros(1, *report.layers[0].output_shape))
    assert report.layers[-1].output_shape == tuple(out.shape[1:]) == (1000,)
