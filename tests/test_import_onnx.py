"""ONNX files exported from torch in the test, counted from their initializers.

Oracles, independent of learnable: the file's own initializers summed with
``onnx.numpy_helper``, torch's ``parameters()`` and ``buffers()``, and the output shapes a
forward pass gives. The file and the torch model differ where CONVENTIONS.md §5 says they
do, and each test states that relation as arithmetic: an eval export folds BatchNorm into
the convolutions (−2C for its weight and bias, +C for the bias the convolution gains),
running statistics are kept without ``num_batches_tracked`` when BatchNorm is not folded,
identical tensors are stored once, and a tied weight used transposed is stored twice.
"""

from __future__ import annotations

import warnings

import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

from conftest import assert_formulas_hold, run_cli
from onnx import helper, numpy_helper
from torch import nn

import learnable

pytestmark = pytest.mark.frameworks


# ---- helpers ------------------------------------------------------------------------------------


def export(model: nn.Module, example: tuple, path, **options):
    """The legacy exporter (onnxscript, which dynamo=True needs, is not installed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, str(path), dynamo=False, **options)
    return path


def file_total(model: onnx.ModelProto) -> int:
    """Every initializer's elements, read from its data (not its dims)."""
    return sum(numpy_helper.to_array(t).size for t in model.graph.initializer)


def torch_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def torch_shapes(model: nn.Module, example: tuple) -> dict[str, tuple[int, ...]]:
    """Each submodule's output shape in a forward pass, batch dropped (batch-first models)."""
    shapes: dict[str, tuple[int, ...]] = {}

    def record(name):
        def hook(module, inputs, output):
            shapes[name] = tuple((output[0] if isinstance(output, tuple) else output).shape[1:])
        return hook

    hooks = [m.register_forward_hook(record(name)) for name, m in model.named_modules() if name]
    with torch.no_grad():
        model(*example)
    for h in hooks:
        h.remove()
    return shapes


def check_rows(report) -> None:
    for row in report.layers:
        assert_formulas_hold(row)


# ---- models ---------------------------------------------------------------------------------------


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.flatten(torch.max_pool2d(torch.relu(self.conv2(x)), 2), 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
        self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) \
            if stride > 1 or cin != cout else None

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.bn = nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16)
        self.layer1, self.layer2 = Block(16, 16, 1), Block(16, 32, 2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(torch.relu(self.bn(self.stem(x)))))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def trained_batch_norms(model: nn.Module) -> nn.Module:
    """Distinct statistics and affine values, as after training (so no two tensors are equal)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                for tensor, low in ((m.weight, 0.5), (m.bias, -1.0), (m.running_mean, -1.0), (m.running_var, 0.5)):
                    tensor.copy_(torch.rand(tensor.shape, generator=generator) + low)
    return model


def batch_norm_channels(model: nn.Module) -> list[int]:
    return [m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


class LanguageModel(nn.Module):
    """Embedding → 2-layer bidirectional LSTM → Linear, optionally with the head tied to the embedding."""

    def __init__(self, tied: bool = False):
        super().__init__()
        self.embed = nn.Embedding(100, 16)
        self.lstm = nn.LSTM(16, 8, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(16, 100)
        if tied:
            self.head.weight = self.embed.weight

    def forward(self, ids):
        return self.head(self.lstm(self.embed(ids))[0])


# ---- LeNet-5: the file holds exactly the torch parameters ---------------------------------------


def test_lenet5_exports_exactly_its_parameters(tmp_path):
    model = LeNet5().eval()
    example = (torch.zeros(1, 1, 32, 32),)
    report = learnable.count(export(model, example, tmp_path / "lenet5.onnx"))
    on_file = file_total(onnx.load(str(tmp_path / "lenet5.onnx")))
    assert report.total_params == on_file == torch_params(model) == 61_706  # CONVENTIONS.md §3.2 and §5
    assert report.total_buffers == 0 and report.trainable_params == 61_706
    shapes = torch_shapes(model, example)
    rows = {"conv1/Conv": "conv1", "conv2/Conv": "conv2", "fc1/Gemm": "fc1", "fc2/Gemm": "fc2", "fc3/Gemm": "fc3"}
    for row, module in rows.items():
        layer = report.layer(row)
        assert layer.output_shape == shapes[module], row
        assert layer.params == torch_params(getattr(model, module)), row
    assert report.layer("conv1/Conv").type == "Conv (Conv2d)" and report.layer("fc1/Gemm").type == "Gemm (Linear)"
    assert report.layers[0].type == "Input" and report.layers[0].output_shape == (1, 32, 32)
    assert "fold BatchNorm" in report.name  # what an exported file holds, said where every rendering shows it
    check_rows(report)
    result = run_cli("count", str(tmp_path / "lenet5.onnx"))
    assert result.returncode == 0 and "Total params: 61,706" in result.stdout


def test_a_model_proto_counts_like_its_file(tmp_path):
    path = export(LeNet5().eval(), (torch.zeros(1, 1, 32, 32),), tmp_path / "lenet5.onnx")
    proto = onnx.load(str(path))
    assert learnable.count(proto).total_params == learnable.count(path).total_params == 61_706


# ---- BatchNorm: folded in eval exports, kept (with its statistics) otherwise --------------------


def test_eval_export_folds_batch_norm_into_the_convolutions(tmp_path):
    model = trained_batch_norms(SmallResNet()).eval()
    example = (torch.zeros(1, 3, 32, 32),)
    path = export(model, example, tmp_path / "resnet.onnx")
    report = learnable.count(path)
    channels = batch_norm_channels(model)
    # Each BatchNorm's weight and bias (2C) leave; its convolution, bias-free here, gains a bias (C).
    assert report.total_params == file_total(onnx.load(str(path))) == torch_params(model) - 2 * sum(channels) + sum(channels)
    assert report.total_buffers == 0 and not any(r.type == "BatchNormalization" for r in report.layers)
    stem = report.layer("stem/Conv")
    assert stem.type == "Conv (Conv2d)" and stem.params == 16 * 3 * 3 * 3 + 16  # the folded bias
    shapes = torch_shapes(model, example)
    for row, module in {"stem/Conv": "stem", "layer1/conv1/Conv": "layer1.conv1", "layer2/conv1/Conv": "layer2.conv1",
                        "layer2/down/down.0/Conv": "layer2.down.0", "fc/Gemm": "fc"}.items():
        assert report.layer(row).output_shape == shapes[module], row
    check_rows(report)


def test_fresh_batch_norms_fold_into_identical_biases_stored_once(tmp_path):
    model = SmallResNet().eval()  # fresh statistics: every folded bias is zeros
    path = export(model, (torch.zeros(1, 3, 32, 32),), tmp_path / "resnet.onnx")
    report = learnable.count(path)
    channels = batch_norm_channels(model)
    # The zero biases of equal length are one tensor in the file: one per distinct width.
    folded = torch_params(model) - 2 * sum(channels) + sum(set(channels))
    assert report.total_params == file_total(onnx.load(str(path))) == folded
    merged = [r for r in report.layers if "stored it once" in r.note]
    assert len(merged) == len(channels) - len(set(channels))
    for row in merged:  # its weight alone: the bias is counted at the row that reads it first
        assert [w.size for w in row.weights] == [row.params] and len(row.weights[0].shape) == 4
    check_rows(report)


@pytest.mark.parametrize("mode", ["no constant folding", "training"])
def test_unfolded_batch_norm_keeps_its_statistics_as_buffers(tmp_path, mode):
    options = {"do_constant_folding": False} if mode != "training" else {"training": torch.onnx.TrainingMode.TRAINING}
    model = trained_batch_norms(SmallResNet()).eval()
    path = export(model, (torch.zeros(1, 3, 32, 32),), tmp_path / "resnet.onnx", **options)
    report = learnable.count(path)
    buffers = sum(b.numel() for b in model.buffers())
    batch_norms = len(batch_norm_channels(model))
    assert report.total_params == torch_params(model)  # weight and bias of every layer, as torch counts
    assert report.total_buffers == buffers - batch_norms  # num_batches_tracked is not exported
    assert report.total_params + report.total_buffers == file_total(onnx.load(str(path)))
    bn = report.layer("layer2/bn1/BatchNormalization")
    assert (bn.params, bn.buffers) == (2 * 32, 2 * 32) and "running_mean" in bn.note
    assert [w.name for w in bn.weights if w.buffer] == ["layer2.bn1.running_mean", "layer2.bn1.running_var"]
    keras = learnable.count(path, convention="keras")  # Keras keeps moving statistics as non-trainable weights
    assert (keras.total_params, keras.non_trainable_params) == (report.total_params + report.total_buffers,
                                                                 report.total_buffers)
    check_rows(report)


# ---- MLP: Gemm on flat inputs, MatMul + Add on sequences -----------------------------------------


@pytest.mark.parametrize("example_shape, weight_op", [((20,), "Gemm"), ((4, 20), "MatMul")])
def test_mlp_counts_each_linear(tmp_path, example_shape, weight_op):
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 5)).eval()
    example = (torch.zeros(1, *example_shape),)
    path = export(model, example, tmp_path / "mlp.onnx")
    report = learnable.count(path)
    assert report.total_params == file_total(onnx.load(str(path))) == torch_params(model) == 20 * 64 + 64 + 64 * 32 + 32 + 32 * 5 + 5
    shapes = torch_shapes(model, example)
    for index in ("0", "2", "4"):
        row = report.layer(f"{index}/{weight_op}")
        assert row.output_shape == shapes[index] and row.type == f"{weight_op} (Linear)"
        linear = model[int(index)]
        if weight_op == "Gemm":
            assert row.params == torch_params(linear)
        else:  # MatMul by the weight (stored transposed), then Add of the bias: two ONNX nodes
            assert (row.params, report.layer(f"{index}/Add").params) == (linear.weight.numel(), linear.bias.numel())
    check_rows(report)


def test_a_module_called_twice_counts_once(tmp_path):
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 8)

        def forward(self, x):
            return self.fc(torch.relu(self.fc(x)))

    model = Twice().eval()
    report = learnable.count(export(model, (torch.zeros(1, 8),), tmp_path / "twice.onnx"))
    first, second = (r for r in report.layers if r.type == "Gemm (Linear)")
    assert report.total_params == torch_params(model) == 8 * 8 + 8
    assert (first.params, second.params) == (8 * 8 + 8, 0) and f"shares the weights of '{first.name}'" in second.note


# ---- LSTM: W, R and B are torch's four tensors per layer and direction ------------------------------


def test_lstm_language_model(tmp_path):
    model = LanguageModel().eval()
    example = (torch.zeros(1, 7, dtype=torch.long),)
    path = export(model, example, tmp_path / "lm.onnx")
    report = learnable.count(path)
    assert report.total_params == file_total(onnx.load(str(path))) == torch_params(model)
    lstm_rows = [r for r in report.layers if r.type == "LSTM"]
    assert len(lstm_rows) == 2  # one ONNX LSTM node per layer
    for layer, row in enumerate(lstm_rows):
        per_layer = sum(p.numel() for name, p in model.lstm.named_parameters() if f"_l{layer}" in name)
        assert row.params == per_layer
        assert row.output_shape == (7, 2, 8)  # ONNX's Y: (sequence, directions, hidden), batch dropped
    shapes = torch_shapes(model, example)
    assert report.layer("embed/Gather").output_shape == shapes["embed"] == (7, 16)
    assert report.layer("head/MatMul").output_shape == shapes["head"] == (7, 100)
    check_rows(report)


def test_a_tied_weight_used_transposed_is_stored_twice(tmp_path):
    model = LanguageModel(tied=True).eval()
    path = export(model, (torch.zeros(1, 7, dtype=torch.long),), tmp_path / "lm.onnx")
    report = learnable.count(path)
    # parameters() counts the tied table once; the exporter stores the head's transposed copy too.
    assert report.total_params == file_total(onnx.load(str(path))) == torch_params(model) + 100 * 16


def test_dynamic_axes_are_unknown(tmp_path):
    path = export(LanguageModel().eval(), (torch.zeros(1, 7, dtype=torch.long),), tmp_path / "lm.onnx",
                  input_names=["ids"], dynamic_axes={"ids": {0: "batch", 1: "length"}})
    report = learnable.count(path)
    assert report.layer("ids").output_shape == (None,)
    assert report.layer("head/MatMul").output_shape == (None, 100)


def test_input_shape_gives_the_dynamic_sizes(tmp_path):
    model = trained_batch_norms(SmallResNet()).eval()
    path = export(model, (torch.zeros(1, 3, 32, 32),), tmp_path / "resnet.onnx", input_names=["image"],
                  dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}})
    assert learnable.count(path).layer("stem/Conv").output_shape == (16, None, None)
    report = learnable.count(path, input_shape=(3, 64, 48))
    shapes = torch_shapes(model, (torch.zeros(1, 3, 64, 48),))
    assert report.layer("layer2/conv2/Conv").output_shape == shapes["layer2.conv2"] == (32, 32, 24)
    lenet = export(LeNet5().eval(), (torch.zeros(1, 1, 32, 32),), tmp_path / "lenet5.onnx")
    with pytest.raises(learnable.LearnableError, match="only its dynamic sizes"):
        learnable.count(lenet, input_shape=(1, 64, 64))  # traced at 32×32: its Gemm expects 400 features


# ---- files: external data is never read; a bad file is one clear error --------------------------------


@pytest.mark.parametrize("damage", ["delete", "garbage"])
def test_external_data_is_never_read(tmp_path, damage):
    proto = onnx.load(str(export(LeNet5().eval(), (torch.zeros(1, 1, 32, 32),), tmp_path / "inline.onnx")))
    expected = file_total(proto)
    onnx.save_model(proto, str(tmp_path / "lenet5.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="lenet5.weights", size_threshold=0)
    saved = onnx.load(str(tmp_path / "lenet5.onnx"), load_external_data=False)
    assert all(t.data_location == onnx.TensorProto.EXTERNAL for t in saved.graph.initializer)
    weights = tmp_path / "lenet5.weights"
    assert weights.stat().st_size == 4 * expected
    if damage == "delete":
        weights.unlink()
    else:
        weights.write_bytes(b"\xff" * 7)  # not even one float: reading it would fail
    report = learnable.count(tmp_path / "lenet5.onnx")
    assert report.total_params == expected == 61_706
    assert report.layer("conv2/Conv").output_shape == (16, 10, 10)


@pytest.mark.parametrize("content", [
    lambda onnx_bytes: b"name: not a model\nlayers: []\n",
    lambda onnx_bytes: onnx_bytes[: len(onnx_bytes) // 2],
    lambda onnx_bytes: b"",
], ids=["text", "truncated", "empty"])
def test_a_file_that_is_not_onnx_is_exit_status_2(tmp_path, content):
    good = export(LeNet5().eval(), (torch.zeros(1, 1, 32, 32),), tmp_path / "good.onnx").read_bytes()
    bad = tmp_path / "x.onnx"
    bad.write_bytes(content(good))
    result = run_cli("count", str(bad))
    assert result.returncode == 2, result.stderr
    assert "is not an ONNX model" in result.stderr and "Traceback" not in result.stderr


def test_a_file_over_2_gb_is_refused_unread(tmp_path):
    path = tmp_path / "huge.onnx"
    with path.open("wb") as file:
        file.truncate(2**31 + 1)  # sparse: no disk is used
    with pytest.raises(learnable.LearnableError, match="2 GB"):
        learnable.count(path)


def test_subgraphs_nested_too_deep_are_refused():
    def branch(depth: int) -> onnx.GraphProto:
        out = helper.make_tensor_value_info(f"y{depth}", onnx.TensorProto.FLOAT, [1])
        if depth == 0:
            return helper.make_graph([helper.make_node("Identity", ["x"], [out.name])], "leaf", [], [out])
        flat = helper.make_graph([helper.make_node("Identity", ["x"], [out.name])], f"else{depth}", [], [out])
        node = helper.make_node("If", ["c"], [out.name], then_branch=branch(depth - 1), else_branch=flat)
        return helper.make_graph([node], f"level{depth}", [], [out])

    inputs = [helper.make_tensor_value_info("c", onnx.TensorProto.BOOL, []),
              helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])]
    top = branch(20)
    graph = helper.make_graph(list(top.node), "deep", inputs, list(top.output))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(learnable.LearnableError, match="nests subgraphs"):
        learnable.count(model)


# ---- what is not a parameter, and what no node reads -----------------------------------------------


def test_integer_shapes_are_constants_and_unread_tensors_still_count():
    import numpy as np

    w = numpy_helper.from_array(np.ones((4, 6), np.float32), "w")
    shape = numpy_helper.from_array(np.array([0, 2, 3], np.int64), "shape")
    spare = numpy_helper.from_array(np.ones((5,), np.float32), "spare")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Reshape", ["h", "shape"], ["y"])],
        "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 2, 3])], [w, shape, spare])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    report = learnable.count(model)
    assert report.layer("MatMul_0").params == 4 * 6 and report.layer("MatMul_0").output_shape == (6,)
    assert report.layer("(constants)").buffers == 3  # Reshape's shape: not a parameter
    assert report.layer("(unread initializers)").params == 5  # unknown is never zero
    assert report.total_params + report.total_buffers == file_total(model) == 4 * 6 + 3 + 5


def test_tensors_read_inside_a_subgraph_count_at_its_node():
    import numpy as np

    def branch(name: str, weight: str, own: list) -> onnx.GraphProto:
        out = helper.make_tensor_value_info(f"{name}_y", onnx.TensorProto.FLOAT, [1, 3])
        return helper.make_graph([helper.make_node("MatMul", ["x", weight], [out.name])], name, [], [out], own)

    outer = numpy_helper.from_array(np.ones((4, 3), np.float32), "w_outer")
    inner = numpy_helper.from_array(np.ones((4, 3), np.float32), "w_inner")
    node = helper.make_node("If", ["c"], ["y"], name="choose", then_branch=branch("then", "w_outer", []),
                            else_branch=branch("else", "w_inner", [inner]))
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("c", onnx.TensorProto.BOOL, []),
                      helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3])], [outer])
    report = learnable.count(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    row = report.layer("choose")
    assert row.type == "If" and row.params == 2 * 4 * 3 and row.output_shape == (3,)
    assert sorted(w.name for w in row.weights) == ["w_inner", "w_outer"]  # the outer one read, the inner one held
