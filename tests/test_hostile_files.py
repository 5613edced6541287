"""Model files count only what they hold (issue 19): a view that repeats or overlaps its
storage, dims that disagree with the data, a name or a container nested thousands deep, and a
zip member that inflates to gigabytes each end in one clear line, never a traceback or a
number the file cannot hold. Every file here is built small, in tmp_path."""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile

import pytest

import learnable
from learnable.errors import SpecError


def _refused(path, *words):
    with pytest.raises(SpecError) as caught:
        learnable.count(str(path))
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in words), message
    return message


# ---- safetensors: a name of 20,000 dotted parts ------------------------------------------------


def test_a_safetensors_name_of_20000_parts_is_refused_by_its_depth(tmp_path):
    name = ".".join(["x"] * 20_000)
    raw = json.dumps({name: {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(4))
    _refused(path, "20,000 dotted parts", "'x.x.x")


def test_a_header_of_too_many_tensors_is_refused_before_the_graph(tmp_path):
    # 300,001 one-element tensors in a 17 MB header: a million took 10 s idle, 23 s under load
    count = 300_001
    raw = json.dumps({f"t{i}": {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]} for i in range(count)}).encode()
    path = tmp_path / "many.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(count))
    _refused(path, f"{count:,} tensors", "300,000")


def test_a_folder_whose_shards_add_up_to_too_many_tensors_is_refused(tmp_path):
    # each shard under the bound, the folder over it: 2 × 150,001 > 300,000
    per_shard, weight_map = 150_001, {}
    for shard in ("a.safetensors", "b.safetensors"):
        names = [f"{shard[0]}{i}" for i in range(per_shard)]
        raw = json.dumps({n: {"dtype": "U8", "shape": [1], "data_offsets": [i, i + 1]}
                          for i, n in enumerate(names)}).encode()
        (tmp_path / shard).write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(per_shard))
        weight_map.update(dict.fromkeys(names, shard))
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    _refused(tmp_path, "more than 300,000 tensors", "b.safetensors")


def test_a_deep_but_real_module_path_still_counts(tmp_path):
    name = ".".join(f"m{i}" for i in range(200)) + ".weight"
    raw = json.dumps({name: {"dtype": "F32", "shape": [3, 5], "data_offsets": [0, 60]}}).encode()
    path = tmp_path / "deep.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(60))
    assert learnable.count(str(path)).total_params == 3 * 5


# ---- .pt: views, nesting, a zip bomb -----------------------------------------------------------

torch = pytest.importorskip("torch", reason="reading .pt files needs torch")


def test_an_expanded_view_is_refused_not_counted_a_trillion_times(tmp_path):
    path = tmp_path / "expand.pt"
    torch.save({"w": torch.zeros(1).expand(10**6, 10**6)}, path)
    assert path.stat().st_size < 4096
    _refused(path, "'w'", "expanded view (stride 0)")


def test_two_overlapping_views_of_one_storage_are_refused(tmp_path):
    storage = torch.arange(100.0)
    path = tmp_path / "overlap.pt"
    torch.save({"a": storage[:60], "b": storage[40:]}, path)  # 120 elements claimed from 100
    _refused(path, "'a'", "'b'", "same bytes")


def test_a_view_overlapping_itself_is_refused(tmp_path):
    path = tmp_path / "self.pt"
    torch.save({"w": torch.zeros(20).as_strided((10, 10), (1, 1))}, path)  # 100 elements from 19
    _refused(path, "'w'", "overlap")


def test_disjoint_views_and_tied_weights_count_what_the_storage_holds(tmp_path):
    storage = torch.zeros(100)
    path = tmp_path / "views.pt"
    # a, b: halves of one storage; c: a again under a second name (tied); d: a transposed view of its own
    torch.save({"a": storage[:50].view(5, 10), "b": storage[50:], "c": storage[:50].view(5, 10),
                "d": torch.zeros(3, 4).t()}, path)
    assert learnable.count(str(path)).total_params == 50 + 50 + 3 * 4


def test_meta_and_sparse_tensors_hold_no_data_to_count(tmp_path):
    meta, sparse = tmp_path / "meta.pt", tmp_path / "sparse.pt"
    torch.save({"m": torch.empty(10**6, 10**6, device="meta")}, meta)
    torch.save({"s": torch.eye(3).to_sparse()}, sparse)
    _refused(meta, "'m'", "meta device")
    _refused(sparse, "'s'", "sparse")


@pytest.mark.parametrize("kind", [dict, list])
def test_containers_nested_5000_deep_are_one_clear_error(tmp_path, kind):
    data = torch.zeros(2)
    for _ in range(5_000):
        data = {"x": data} if kind is dict else [data]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)  # torch.save (the pickler) recurses; learnable must not
    try:
        torch.save(data, tmp_path / "nested.pt")
    finally:
        sys.setrecursionlimit(limit)
    _refused(tmp_path / "nested.pt", "nests containers more than")


def test_a_state_dict_nested_a_few_levels_still_counts(tmp_path):
    path = tmp_path / "wrapped.pt"
    torch.save({"model": {"state_dict": {"fc.weight": torch.zeros(4, 3), "fc.bias": torch.zeros(4)}}}, path)
    assert learnable.count(str(path)).total_params == 4 * 3 + 4


def _with_pickle_declaring(size: int, path):
    """A real checkpoint whose data.pkl is deflated and declares ``size`` bytes: a zip bomb's
    directory, forged rather than inflated, so the test allocates nothing."""
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(3)}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            compress = zipfile.ZIP_DEFLATED if info.filename.endswith("data.pkl") else zipfile.ZIP_STORED
            out.writestr(info.filename, source.read(info), compress_type=compress)
    blob = bytearray(path.read_bytes())
    central = blob.find(b"PK\x01\x02")  # the directory's first entry: data.pkl, as torch.save orders them
    assert blob[central + 46:].startswith(b"archive/data.pkl")
    struct.pack_into("<I", blob, central + 24, size)  # its uncompressed size, as the directory declares it
    path.write_bytes(bytes(blob))


def test_a_zip_bomb_pickle_is_refused_before_torch_inflates_it(tmp_path):
    path = tmp_path / "bomb.pt"
    _with_pickle_declaring(4_000_000_000, path)
    assert zipfile.ZipFile(path).getinfo("archive/data.pkl").file_size == 4_000_000_000
    _refused(path, "4,000,000,000-byte pickle")


def test_a_checkpoint_with_small_compressed_records_still_counts(tmp_path):
    path = tmp_path / "deflated.pt"
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(3, 5)}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            compress = zipfile.ZIP_DEFLATED if info.filename.endswith("data.pkl") else zipfile.ZIP_STORED
            out.writestr(info.filename, source.read(info), compress_type=compress)
    assert learnable.count(str(path)).total_params == 3 * 5


# ---- ONNX: dims against the data held ---------------------------------------------------------

onnx = pytest.importorskip("onnx", reason="reading .onnx files needs onnx")


def _onnx_with(tensor, path):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Add", ["x", tensor.name], ["y"])], "g", [x], [y],
                              initializer=[tensor])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _tensor(dims, **data):
    from onnx import TensorProto

    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=dims)
    for field, value in data.items():
        if field == "raw_data":
            tensor.raw_data = value
        else:
            getattr(tensor, field).extend(value)
    return tensor


def test_onnx_dims_that_disagree_with_raw_data_are_refused(tmp_path):
    path = _onnx_with(_tensor([4, 3_000_000_000], raw_data=bytes(48)), tmp_path / "lie.onnx")
    _refused(path, "'w'", "12,000,000,000 elements", "holds 48 bytes")


def test_onnx_dims_that_disagree_with_typed_data_are_refused(tmp_path):
    path = _onnx_with(_tensor([4, 3], float_data=[0.0] * 5), tmp_path / "typed.onnx")
    _refused(path, "'w'", "holds 5 values")


def test_onnx_dims_past_an_int64_count_are_refused_before_arithmetic(tmp_path):
    path = _onnx_with(_tensor([2**62] * 300, raw_data=bytes(4)), tmp_path / "huge.onnx")
    _refused(path, "'w'", "300 dims", "2^63 - 1")


@pytest.mark.parametrize("data", [{"raw_data": bytes(4 * 3 * 4)}, {"float_data": [0.0] * 12}])
def test_onnx_dims_that_match_their_data_count(tmp_path, data):
    path = _onnx_with(_tensor([3, 4], **data), tmp_path / "ok.onnx")
    assert learnable.count(str(path)).total_params == 3 * 4


def test_onnx_external_data_is_counted_from_its_dims_and_says_so(tmp_path):
    from onnx import TensorProto

    tensor = _tensor([3, 4])
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="weights.bin")
    tensor.external_data.add(key="length", value=str(3 * 4 * 4))
    report = learnable.count(str(_onnx_with(tensor, tmp_path / "ext.onnx")))
    assert report.total_params == 3 * 4
    assert any("external files, never opened" in note for note in report.notes)
    tensor.external_data[1].value = "48000000000"  # a length that disagrees with the dims
    _refused(_onnx_with(tensor, tmp_path / "ext_lie.onnx"), "'w'", "holds 48,000,000,000 bytes")


# ---- hostile inputs of kinds no issue names (issue 19's "Done when", re-checked) -----------------


def test_a_pickle_referencing_one_list_2_to_the_40_ways_counts_its_one_tensor(tmp_path):
    """40 levels of [a, a]: a 2 KB file whose containers have 2^40 paths; walked path by path
    it never ended. Each container is followed once: the one tensor of 1 element."""
    torch = pytest.importorskip("torch")
    laughs = [torch.zeros(1)]
    for _ in range(40):
        laughs = [laughs, laughs]
    torch.save(laughs, tmp_path / "laughs.pt")
    assert learnable.count(str(tmp_path / "laughs.pt")).total_params == torch.zeros(1).numel()


def test_a_hf_config_of_two_billion_layers_is_refused_before_a_list_per_layer(tmp_path):
    # It held 23 GB (killed at 22 s) building each layer's sliding window before any limit applied.
    config = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
              "intermediate_size": 128, "num_hidden_layers": 2_000_000_000, "num_attention_heads": 4,
              "num_key_value_heads": 4, "vocab_size": 100}
    (tmp_path / "config.json").write_text(json.dumps(config))
    _refused(tmp_path, "'num_hidden_layers' is 2,000,000,000; learnable reads at most 100,000 layers")


def test_a_compact_spec_with_a_name_of_200000_letters_counts_in_linear_time(tmp_path):
    """The scan that counts calls before parsing restarted at every letter of a long word:
    quadratic (20,000 letters took 2.5 s, so this one ~4 minutes; a 15 MB line, days)."""
    import time

    path = tmp_path / "long.txt"
    path.write_text("Input(4) | Dense(2, name='" + "a" * 200_000 + "')")
    start = time.perf_counter()
    report = learnable.count(str(path))
    assert time.perf_counter() - start < 20
    assert report.total_params == 4 * 2 + 2


def test_an_error_quoting_a_huge_name_stays_a_readable_line(tmp_path):
    # A .keras whose class name is 1,000,000 characters: the message quoted all of it.
    with zipfile.ZipFile(tmp_path / "m.keras", "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "S" * 1_000_000, "config": {}}))
    message = _refused(tmp_path / "m.keras", "characters left out", "not a Sequential or functional model")
    assert len(message) < 4_100


# ---- the bounded child that reads HDF5 (learnable/_child.py) -----------------------------------


def test_a_bounded_child_reports_memory_time_refusal_and_value_apart():
    import time

    from learnable._child import run_bounded

    over = run_bounded(bytearray, (2 * 1024**3,), seconds=60, memory_bytes=1024**3)  # 2 GiB under a 1 GiB limit
    assert over.memory and over.value is None
    slow = run_bounded(time.sleep, (30,), seconds=1, memory_bytes=1024**3)
    assert slow.timed_out
    refused = run_bounded(learnable.count, ("Input(4) | Dense(",), seconds=60, memory_bytes=1024**3)
    assert refused.refused and "\n" not in refused.refused
    assert run_bounded(len, ("abc",), seconds=60, memory_bytes=1024**3).value == 3
