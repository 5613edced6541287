"""Memory estimates: the parameter terms against what PyTorch allocates for one AdamW (and
SGD with momentum) step, byte for byte; activations by hand and against the tensors
autograd saves for backward."""

from __future__ import annotations

import pytest

import learnable
from conftest import run_cli
from learnable.errors import LearnableError
from learnable.memory import estimate

SEED = "examples/simple_cnn.yaml"
# The seed's output sizes, one example (28×28×1 input; 3×3 valid convs; 2×2 pool).
SEED_SIZES = [28 * 28 * 1, 26 * 26 * 32, 24 * 24 * 64, 12 * 12 * 64, 9216, 128, 10]
SEED_PARAMS = 320 + 18_496 + 1_179_776 + 1_290


def _term(terms, start: str):
    return next(t for t in terms if t.label.startswith(start))


def test_seed_memory_by_hand():
    memory = estimate(learnable.count(SEED), batch=32, optimizer="adamw")
    assert memory.activations == tuple(32 * n * 4 for n in SEED_SIZES)
    assert _term(memory.inference, "weights").bytes.value == SEED_PARAMS * 4
    # The peak is conv_2's output being written while conv_1's is still read.
    assert _term(memory.inference, "activations").bytes.value == 32 * (SEED_SIZES[1] + SEED_SIZES[2]) * 4
    assert _term(memory.training, "gradients").bytes.value == SEED_PARAMS * 4
    assert _term(memory.training, "adamw state").bytes.value == 2 * SEED_PARAMS * 4
    assert _term(memory.training, "adamw step").bytes.value == 8 * 4  # 4 kernels + 4 biases
    assert _term(memory.training, "activations").bytes.value == 32 * sum(SEED_SIZES) * 4
    assert memory.training_bytes == sum(t.bytes.value for t in memory.training)


def test_dtypes_and_mixed_precision():
    report = learnable.count(SEED)
    assert _term(estimate(report, dtype="int4").inference, "weights").bytes.value == -(-SEED_PARAMS // 2)
    assert _term(estimate(report, dtype="int8").inference, "weights").bytes.value == SEED_PARAMS
    mixed = estimate(report, dtype="bf16", optimizer="adam")
    per_param = sum(_term(mixed.training, s).bytes.value for s in ("weights", "gradients", "fp32 master", "adam state"))
    assert per_param == 16 * SEED_PARAMS  # 2 + 2 + 4 + 8 bytes, the ZeRO paper's accounting
    with pytest.raises(LearnableError, match="int8"):
        estimate(report, dtype="int8", optimizer="adam")
    for bad in ({"dtype": ["fp32"]}, {"optimizer": {"adam": 1}}, {"batch": 2.5}, {"batch": True}):
        with pytest.raises(LearnableError):  # values from a web request's JSON: never a TypeError
            estimate(report, **bad)


def test_branches_free_their_inputs_after_the_last_reader():
    # a → b → c, a → c: a lives until c; b and c together with a at c's step.
    spec = {"layers": [{"Input": {"shape": [10], "name": "a"}},
                       {"Dense": {"units": 20, "name": "b"}},
                       {"Concatenate": {"name": "c", "inputs": ["a", "b"]}},
                       {"Dense": {"units": 5, "name": "d"}}]}
    memory = estimate(learnable.count(spec))
    assert _term(memory.inference, "activations").bytes.value == (10 + 20 + 30) * 4


def test_cli_training_estimate_for_resnet50_shows_each_term():
    out = run_cli("count", "zoo:resnet50", "--memory", "--batch", "32", "--optimizer", "adamw").stdout
    params, trainable = 25_636_712, 25_583_592  # keras.applications.ResNet50: 53,120 moving statistics
    assert f"weights ({params:,} params, fp32): {params:,}×4 = {params * 4:,} B" in out
    assert f"gradients ({trainable:,} trainable params, fp32): {trainable:,}×4 = {trainable * 4:,} B" in out
    assert f"adamw state (exp_avg and exp_avg_sq, fp32): 2×({trainable:,}×4) = {8 * trainable:,} B" in out
    assert "Training memory:" in out and "activations kept for backward" in out


def test_bad_memory_options_are_one_line_errors():
    result = run_cli("count", SEED, "--memory", "--batch", "0")
    assert result.returncode == 2 and "--batch" in result.stderr and "Traceback" not in result.stderr


# ---- against PyTorch ------------------------------------------------------------------------

torch = pytest.importorskip("torch")


def _allocated(module, optimizer) -> dict[str, int]:
    """Bytes PyTorch holds after one training step, by kind."""
    module(torch.randn(2, 3, 64, 64)).sum().backward()
    optimizer.step()
    state = [t for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t)]
    return {
        "weights": sum(p.nbytes for p in module.parameters()),
        "buffers": sum(b.nbytes for b in module.buffers()),  # num_batches_tracked: int64
        "gradients": sum(p.grad.nbytes for p in module.parameters()),
        "states": sum(t.nbytes for t in state if t.dim() > 0),
        "step": sum(t.nbytes for t in state if t.dim() == 0),
    }


@pytest.mark.frameworks
@pytest.mark.parametrize("name", ["adamw", "momentum"])
def test_parameter_terms_equal_what_pytorch_allocates(name):
    from reference_models import torchvision_resnet

    module = torchvision_resnet("bottleneck", (3, 4, 6, 3))
    if name == "adamw":
        optimizer = torch.optim.AdamW(module.parameters())
    else:
        optimizer = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
    real = _allocated(module, optimizer)
    memory = estimate(learnable.count("zoo:resnet50_torch"), batch=2, optimizer=name)
    assert _term(memory.training, "weights").bytes.value == real["weights"]
    assert _term(memory.training, "buffers").bytes.value == real["buffers"]
    assert _term(memory.training, "gradients").bytes.value == real["gradients"]
    assert _term(memory.training, f"{name} state").bytes.value == real["states"]
    step = [t for t in memory.training if t.label.startswith(f"{name} step")]
    assert sum(t.bytes.value for t in step) == real["step"]


@pytest.mark.frameworks
def test_activations_kept_for_backward_are_close_to_what_autograd_saves():
    """Autograd saves the inputs (or outputs) each op needs; the estimate keeps every
    layer's output once, so it also counts views (Flatten) and the network's output, which
    autograd does not save: an upper bound, within 40% here."""
    from torch import nn

    module = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Conv2d(16, 32, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 13 * 13, 10)).train()
    saved: dict[int, int] = {}

    def pack(tensor):
        saved[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    x = torch.randn(8, 3, 32, 32, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        module(x).sum()
    params = {p.untyped_storage().data_ptr() for p in module.parameters()}
    real = sum(n for ptr, n in saved.items() if ptr not in params)
    memory = estimate(learnable.count(module, input_shape=(3, 32, 32)), batch=8, optimizer="sgd")
    kept = _term(memory.training, "activations").bytes.value
    assert real <= kept <= 1.4 * real, (kept, real)


def test_cli_choices_are_the_estimates_own():
    # learnable.cli lists them itself so that --help imports nothing more: they must not drift.
    from learnable.cli import DTYPES, OPTIMIZER_NAMES
    from learnable.memory import DTYPE_BITS, OPTIMIZERS

    assert DTYPES == tuple(DTYPE_BITS) and OPTIMIZER_NAMES == tuple(OPTIMIZERS)
