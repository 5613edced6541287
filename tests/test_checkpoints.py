"""Checkpoints are counted from their headers or as mapped tensors: no weight is loaded,
no object is unpickled, and a hostile file is one clear error."""

from __future__ import annotations

import json
import pickle
import struct

import pytest

import learnable
from conftest import run_cli


def write_safetensors(path, tensors: dict[str, tuple[str, list[int]]], *, data: bytes | None = None) -> None:
    """A safetensors file whose header describes ``tensors`` (dtype, shape), with zero data."""
    sizes = {"F32": 4, "I64": 8, "F16": 2}
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + (data if data is not None else bytes(offset)))


RESNET_STEM = {
    "conv1.weight": ("F32", [64, 3, 7, 7]),
    "bn1.weight": ("F32", [64]), "bn1.bias": ("F32", [64]),
    "bn1.running_mean": ("F32", [64]), "bn1.running_var": ("F32", [64]), "bn1.num_batches_tracked": ("I64", []),
    "layer1.0.conv1.weight": ("F32", [64, 64, 3, 3]),
    "fc.weight": ("F16", [10, 64]), "fc.bias": ("F16", [10]),
}


def test_safetensors_header_is_enough(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, RESNET_STEM)
    report = learnable.count(path)
    assert report.total_params == 64 * 3 * 7 * 7 + 2 * 64 + 64 * 64 * 3 * 3 + 10 * 64 + 10
    assert report.total_buffers == 2 * 64 + 1
    assert [b.name for b in report.blocks] == ["layer1", "layer1.0"]
    assert report.layer("fc").note == "F16; 1,300 bytes"  # (10×64 + 10) × 2 bytes
    assert report.convention == "pytorch"


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[:5], "too short"),
    (lambda raw: struct.pack("<Q", 10**9) + raw[8:], "declares a 1,000,000,000-byte header"),
    (lambda raw: raw[:8] + b"{not json" + raw[17:], "not JSON"),
])
def test_damaged_safetensors_is_one_clear_error(tmp_path, damage, message):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, RESNET_STEM)
    path.write_bytes(damage(path.read_bytes()))
    result = run_cli("count", str(path))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_safetensors_offsets_must_fit_the_file(tmp_path):
    path = tmp_path / "model.safetensors"
    write_safetensors(path, {"w": ("F32", [1000])}, data=bytes(10))  # promises 4,000 bytes, has 10
    with pytest.raises(learnable.LearnableError, match="data offsets"):
        learnable.count(path)


@pytest.mark.frameworks
def test_state_dict_counts_tied_weights_once(tmp_path):
    torch = pytest.importorskip("torch")
    embedding = torch.nn.Embedding(100, 16)
    head = torch.nn.Linear(16, 100, bias=False)
    head.weight = embedding.weight  # tied, as language models do
    model = torch.nn.ModuleDict({"embed": embedding, "head": head, "norm": torch.nn.BatchNorm1d(16)})
    torch.save({"state_dict": model.state_dict()}, tmp_path / "lm.pt")
    report = learnable.count(tmp_path / "lm.pt")
    params = sum(p.numel() for p in model.parameters())  # parameters() counts a tied tensor once
    assert (report.total_params, report.total_buffers) == (params, sum(b.numel() for b in model.buffers()))


@pytest.mark.frameworks
def test_a_pickled_object_is_never_run(tmp_path):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            import os

            return os.system, (f"touch {marker}",)

    (tmp_path / "evil.pkl.pt").write_bytes(pickle.dumps({"weight": Exploit()}))  # a bare pickle
    torch.save({"weight": Exploit()}, tmp_path / "evil.pt")  # torch's own zip format
    for name in ("evil.pkl.pt", "evil.pt"):
        result = run_cli("count", str(tmp_path / name))
        assert result.returncode == 2 and "weights_only=True" in result.stderr, result.stderr
    assert not marker.exists()
