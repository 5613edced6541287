"""GGUF files: counted from the header and tensor table, never the tensor data.

Oracles: the numpy arrays written with gguf-py's own GGUFWriter (their sizes are the
logical parameters), the format's block arithmetic written by hand (Q8_0: 34 bytes per 32
weights; Q4_K: 144 per 256; Q6_K: 210 per 256; F16: 2 bytes; F32: 4), and gguf-py's own
GGUFReader, which our bounded reader must agree with on every well-formed file.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import time

import pytest
from conftest import evaluate_formula, run_cli

import learnable

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")
from gguf import GGMLQuantizationType as Q
from gguf.quants import quant_shape_to_byte_shape, quantize

from learnable.importers._gguf_header import read_header
from learnable.importers.gguf_file import SIZES

# bytes per weight of each type, by hand from ggml's block layouts (ggml-common.h):
# Q8_0 = 32 int8 + an fp16 scale; Q4_K = 256 4-bit + 12 bytes of 6-bit scales + 2 fp16;
# Q6_K = 256 × (4 + 2) bits + 16 int8 scales + an fp16.
BYTES = {Q.F32: lambda n: n * 4, Q.F16: lambda n: n * 2, Q.Q8_0: lambda n: n // 32 * (32 + 2),
         Q.Q4_K: lambda n: n // 256 * (128 + 12 + 2 + 2), Q.Q6_K: lambda n: n // 256 * (128 + 64 + 16 + 2)}
D, FF, VOCAB, HEADS, KV_HEADS, LAYERS = 256, 512, 64, 4, 2, 2
KV = D // HEADS * KV_HEADS  # 128: grouped-query attention


def llama_tensors(*, bias: bool = False, experts: int = 0) -> dict[str, tuple[tuple[int, ...], Q]]:
    """A small Llama's tensors, as numpy shapes (rows, columns: torch's order) and ggml types."""
    tensors = {"token_embd.weight": ((VOCAB, D), Q.F16), "rope_freqs.weight": ((32,), Q.F32)}
    for i in range(LAYERS):
        b = f"blk.{i}."
        tensors |= {b + "attn_norm.weight": ((D,), Q.F32), b + "attn_q.weight": ((D, D), Q.Q4_K),
                    b + "attn_k.weight": ((KV, D), Q.Q4_K), b + "attn_v.weight": ((KV, D), Q.Q6_K),
                    b + "attn_output.weight": ((D, D), Q.Q4_K), b + "ffn_norm.weight": ((D,), Q.F32)}
        if bias:  # Qwen2's q/k/v biases
            tensors |= {b + "attn_q.bias": ((D,), Q.F32), b + "attn_k.bias": ((KV,), Q.F32),
                        b + "attn_v.bias": ((KV,), Q.F32)}
        if experts:
            tensors |= {b + "ffn_gate_inp.weight": ((experts, D), Q.F32),
                        b + "ffn_gate_exps.weight": ((experts, FF, D), Q.Q4_K),
                        b + "ffn_up_exps.weight": ((experts, FF, D), Q.Q4_K),
                        b + "ffn_down_exps.weight": ((experts, D, FF), Q.Q6_K)}
        else:
            tensors |= {b + "ffn_gate.weight": ((FF, D), Q.Q4_K), b + "ffn_up.weight": ((FF, D), Q.Q8_0),
                        b + "ffn_down.weight": ((D, FF), Q.Q6_K)}
    return tensors | {"output_norm.weight": ((D,), Q.F32), "output.weight": ((VOCAB, D), Q.Q8_0)}


def write_gguf(path, tensors, *, experts: int = 0, endian=None) -> None:
    """Written by gguf-py's GGUFWriter: floats as numpy arrays, Q8_0 quantized by gguf.quants,
    the k-quants (which gguf.quants cannot quantize) as zero bytes of their packed shape."""
    kwargs = {} if endian is None else {"endianess": endian}
    writer = gguf.GGUFWriter(str(path), "llama", **kwargs)
    writer.add_name("tiny-llama")
    writer.add_context_length(4096)
    writer.add_embedding_length(D)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FF)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_Q4_K_M)
    writer.add_token_list([f"t{i}" for i in range(VOCAB)])
    if experts:
        writer.add_expert_count(experts)
        writer.add_expert_used_count(2)
    rng = np.random.default_rng(0)
    for name, (shape, kind) in tensors.items():
        values = rng.standard_normal(shape).astype(np.float32)
        if kind in (Q.F32, Q.F16):
            writer.add_tensor(name, values.astype(np.float16 if kind == Q.F16 else np.float32))
            continue
        packed = (quantize(values, kind) if kind == Q.Q8_0
                  else np.zeros(quant_shape_to_byte_shape(shape, kind), np.uint8))
        writer.add_tensor(name, packed, raw_shape=packed.shape, raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@pytest.fixture
def llama(tmp_path):
    path = tmp_path / "tiny-llama.Q4_K_M.gguf"
    write_gguf(path, llama_tensors())
    return path


def size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape))


def test_parameters_are_logical_elements_whatever_the_quantization(llama):
    tensors = llama_tensors()
    report = learnable.count(llama)
    assert report.total_params == sum(size(s) for n, (s, _) in tensors.items() if not n.startswith("rope_freqs"))
    assert report.total_buffers == 32  # rope_freqs: from the config, not learned
    assert report.convention == "pytorch"
    assert [b.name for b in report.blocks] == ["blk.0", "blk.1"]
    for block in report.blocks:
        assert block.params == sum(size(s) for n, (s, _) in tensors.items() if n.startswith(block.name + "."))


def test_each_row_shows_its_rule_quantization_and_bytes(llama):
    report = learnable.count(llama)
    q = report.layer("blk.0.attn_q")
    assert (q.type, q.params, q.formula) == ("Linear", 256 * 256, "256×256 = 65,536")
    assert q.note == f"Q4_K: 4.5 bits/weight, {256 * 256 // 256 * 144:,} bytes"
    assert q.macs == 256 * 256  # one token through a 256 → 256 projection
    k = report.layer("blk.1.attn_k")
    assert (k.type, k.params, k.output_shape) == ("Linear", 128 * 256, (128,))
    assert report.layer("blk.0.attn_v").note == f"Q6_K: 6.5625 bits/weight, {128 * 256 // 256 * 210:,} bytes"
    assert report.layer("blk.0.ffn_up").note == f"Q8_0: 8.5 bits/weight, {512 * 256 // 32 * 34:,} bytes"
    embed = report.layer("token_embd")
    assert (embed.type, embed.params, embed.formula) == ("Embedding", 64 * 256, "64×256 = 16,384")
    assert embed.note == f"F16: 16 bits/weight, {64 * 256 * 2:,} bytes"
    norm = report.layer("output_norm")
    assert (norm.type, norm.params) == ("tensors", 256) and norm.note.endswith("F32: 32 bits/weight, 1,024 bytes")
    rope = report.layer("rope_freqs")
    assert (rope.params, rope.buffers) == (0, 32) and "not learned" in rope.note
    for row in report.layers:
        assert evaluate_formula(row.formula) == row.params


def test_notes_give_the_metadata_and_the_bytes_on_disk(llama):
    tensors = llama_tensors()
    report = learnable.count(llama)
    meta, stored = report.notes[0], report.notes[1]
    for part in ("architecture llama", "name 'tiny-llama'", "context length 4,096", "embedding length 256",
                 "blocks 2", "feed-forward length 512", "heads 4", "key/value heads 2", "vocabulary 64 entries",
                 "file type MOSTLY_Q4_K_M (15)"):
        assert part in meta
    data = sum(BYTES[kind](size(shape)) for shape, kind in tensors.values())
    assert f"stored: {data:,} bytes of tensor data" in stored
    assert f"in a file of {llama.stat().st_size:,} bytes" in stored
    assert "parameters are logical elements" in stored
    q4k = [size(s) for s, kind in tensors.values() if kind == Q.Q4_K]
    assert f"Q4_K {len(q4k)} tensors, {sum(q4k):,} weights in {sum(q4k) // 256 * 144:,} bytes" in stored


@pytest.mark.parametrize("options", [{}, {"bias": True}, {"experts": 4}], ids=["llama", "bias", "moe"])
def test_our_reader_agrees_with_gguf_readers(tmp_path, options):
    path = tmp_path / "m.gguf"
    write_gguf(path, llama_tensors(**options), experts=options.get("experts", 0))
    ours, theirs = read_header(path, SIZES), gguf.GGUFReader(str(path))
    assert [t.name for t in ours.tensors] == [t.name for t in theirs.tensors]
    for mine, their in zip(ours.tensors, theirs.tensors, strict=True):
        assert mine.ne == tuple(int(d) for d in their.shape)
        assert mine.type == int(their.tensor_type)
        assert mine.nbytes == their.n_bytes
        assert ours.data_offset + mine.offset == their.data_offset
    for key, field in theirs.fields.items():
        if key.startswith("GGUF.") or field.types[0] == gguf.GGUFValueType.ARRAY:
            continue
        assert ours.metadata[key] == pytest.approx(field.contents()), key
    assert ours.metadata["tokenizer.ggml.tokens"].length == len(theirs.fields["tokenizer.ggml.tokens"].data)


def test_big_endian_files_read_alike(tmp_path):
    little, big = tmp_path / "le.gguf", tmp_path / "be.gguf"
    tensors = {"token_embd.weight": ((VOCAB, D), Q.F32), "blk.0.attn_q.weight": ((D, D), Q.F16)}
    write_gguf(little, tensors)
    write_gguf(big, tensors, endian=gguf.GGUFEndian.BIG)
    assert gguf.GGUFReader(str(big)).endianess == gguf.GGUFEndian.BIG
    a, b = learnable.count(little), learnable.count(big)
    assert a.total_params == b.total_params == VOCAB * D + D * D


def test_bias_and_experts(tmp_path):
    path = tmp_path / "m.gguf"
    write_gguf(path, llama_tensors(bias=True, experts=4), experts=4)
    report = learnable.count(path)
    q = report.layer("blk.0.attn_q")
    assert (q.type, q.formula) == ("Linear", "256×256 + 256 = 65,792")
    assert report.layer("blk.0.ffn_gate_inp").formula == "4×256 = 1,024"  # the router: d → experts
    experts = report.layer("blk.0.ffn_gate_exps")
    assert (experts.type, experts.params) == ("tensors", 4 * 512 * 256)
    assert experts.note.endswith(f"Q4_K: 4.5 bits/weight, {4 * 512 * 256 // 256 * 144:,} bytes")
    assert "experts 4, experts used per token 2" in report.notes[0]
    assert report.total_params == sum(size(s) for n, (s, _) in llama_tensors(bias=True, experts=4).items()) - 32


def test_a_tied_head_is_said(tmp_path):
    path = tmp_path / "m.gguf"
    tensors = llama_tensors()
    del tensors["output.weight"]
    write_gguf(path, tensors)
    assert any("token_embd's table (tied)" in note for note in learnable.count(path).notes)


def write_header_only(path, tensors: dict[str, tuple[tuple[int, ...], Q]], arch: str = "llama") -> None:
    """A real-sized model's header and tensor table (GGUFWriter.add_tensor_info, bytes by
    hand from BYTES), its data section a sparse hole of the right size."""
    writer = gguf.GGUFWriter(str(path), arch)
    padded = 0
    for name, (shape, kind) in tensors.items():
        nbytes = BYTES[kind](size(shape))
        writer.add_tensor_info(name, shape, np.dtype(np.float32), nbytes, raw_dtype=kind)
        padded += -(-nbytes // 32) * 32
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    with path.open("r+b") as file:
        file.truncate(-(-path.stat().st_size // 32) * 32 + padded)


def test_llama_3_8b_counts_to_its_published_total(tmp_path):
    """Meta-Llama-3-8B as llama.cpp's Q4_K_M stores it (vocabulary 128,256, width 4,096,
    feed-forward 14,336, 32 layers, 8 key/value heads of 128): 8,030,261,248 parameters,
    transformers' num_parameters() of the published model (the number issue 16 cites)."""
    d, ff, kv, vocab = 4096, 14336, 8 * 128, 128256
    tensors = {"token_embd.weight": ((vocab, d), Q.Q4_K)}
    for i in range(32):
        b = f"blk.{i}."
        tensors |= {b + "attn_norm.weight": ((d,), Q.F32), b + "attn_q.weight": ((d, d), Q.Q4_K),
                    b + "attn_k.weight": ((kv, d), Q.Q4_K), b + "attn_v.weight": ((kv, d), Q.Q6_K),
                    b + "attn_output.weight": ((d, d), Q.Q4_K), b + "ffn_gate.weight": ((ff, d), Q.Q4_K),
                    b + "ffn_up.weight": ((ff, d), Q.Q4_K), b + "ffn_down.weight": ((d, ff), Q.Q6_K),
                    b + "ffn_norm.weight": ((d,), Q.F32)}
    tensors |= {"output_norm.weight": ((d,), Q.F32), "output.weight": ((vocab, d), Q.Q6_K)}
    path = tmp_path / "Meta-Llama-3-8B.Q4_K_M.gguf"
    write_header_only(path, tensors)
    start = time.perf_counter()
    report = learnable.count(path)
    assert time.perf_counter() - start < 2.0
    assert report.total_params == 8_030_261_248
    layer = 2 * d * d + 2 * kv * d + 3 * d * ff + 2 * d  # q, output; k, v; gate, up, down; two norms
    assert len(report.blocks) == 32 and all(b.params == layer for b in report.blocks)
    assert report.layer("blk.0.ffn_down").note == f"Q6_K: 6.5625 bits/weight, {d * ff // 256 * 210:,} bytes"
    data = sum(BYTES[kind](size(shape)) for shape, kind in tensors.values())
    assert f"stored: {data:,} bytes of tensor data" in report.notes[1]
    reader = gguf.GGUFReader(str(path))
    assert sum(t.n_elements for t in reader.tensors) == report.total_params
    assert sum(t.n_bytes for t in reader.tensors) == data


def test_cli_shows_types_and_totals(llama):
    result = run_cli("count", str(llama), "--depth", "2", "--explain")
    assert result.returncode == 0, result.stderr
    total = sum(size(s) for n, (s, _) in llama_tensors().items() if not n.startswith("rope_freqs"))
    assert f"Total params: {total:,}" in result.stdout
    assert "Q4_K: 4.5 bits/weight" in result.stdout and "Q8_0: 8.5 bits/weight" in result.stdout
    assert "bytes of tensor data" in result.stdout


def test_without_gguf_the_extra_is_named(llama):
    script = (f"import sys; sys.modules['gguf'] = None\nimport learnable\ntry:\n    learnable.count({str(llama)!r})\n"
              "except learnable.LearnableError as err:\n    print(err)")
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    assert "pip install 'learnable[gguf]'" in result.stdout, result.stderr


# ---- hostile files: bytes written by hand, from docs/gguf.md's layout ------------------------

def gstr(text: bytes, length: int | None = None) -> bytes:
    return struct.pack("<Q", len(text) if length is None else length) + text


def gguf_bytes(kvs: bytes = b"", n_kv: int = 0, infos: bytes = b"", n_tensors: int = 0, data: bytes = b"",
               version: int = 3) -> bytes:
    head = b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + kvs + infos
    return head + bytes(-len(head) % 32) + data  # the data section starts aligned to 32


def info(name: bytes, ne: tuple[int, ...], kind: int = 0, offset: int = 0, n_dims: int | None = None) -> bytes:
    dims = len(ne) if n_dims is None else n_dims
    return gstr(name) + struct.pack(f"<I{len(ne)}QIQ", dims, *ne, kind, offset)


ONE = gguf_bytes(infos=info(b"w.weight", (8,)), n_tensors=1, data=bytes(32))


HOSTILE = {
    "empty": (b"", "too short"),
    "not gguf": (b"PK\x03\x04" + bytes(40), "magic"),
    "version 1": (gguf_bytes(version=1), "version 1"),
    "truncated in the counts": (ONE[:30], "tensor count of 1, more than its 14 remaining bytes can hold (truncated?)"),
    "truncated in the table": (ONE[:44], "ends inside the sizes of tensor 'w.weight': the file is truncated"),
    "truncated data": (ONE[:-8], "does not fit"),
    "2^63 tensors": (gguf_bytes(n_tensors=2**63), "tensor count of 9,223,372,036,854,775,808"),
    "a million tensors": (gguf_bytes(infos=info(b"w", (1,)) * 1_000_001, n_tensors=1_000_001),
                          "declares 1,000,001 tensors; learnable reads at most 1,000,000"),
    "2^64 - 1 metadata": (gguf_bytes(n_kv=2**64 - 1), "metadata count of 18,446,744,073,709,551,615"),
    "huge key": (gguf_bytes(gstr(b"a", 2**64 - 1), 1), "18,446,744,073,709,551,615-byte string"),
    "huge tensor name": (gguf_bytes(infos=gstr(b"w", 2**62) + bytes(24), n_tensors=1), "byte string"),
    # GGUFReader loops (and allocates) for ever on this one: 2^62 items of one byte, none there
    "huge array": (gguf_bytes(gstr(b"a") + struct.pack("<IIQ", 9, 0, 2**62), 1),
                   "'a' item count of 4,611,686,018,427,387,904"),
    "string past the end": (gguf_bytes(gstr(b"a") + struct.pack("<IIQ", 9, 8, 2) + gstr(b"x") + gstr(b"", 2**40), 1),
                            "ends inside the strings of 'a'"),
    "deep arrays": (gguf_bytes(gstr(b"a") + struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * 6, 1), "nests"),
    "long key twice": (gguf_bytes((gstr(b"k" * 10**6) + struct.pack("<IB", 0, 1)) * 2, 2), "appears twice"),
    "unknown value type": (gguf_bytes(gstr(b"a") + struct.pack("<I", 99) + bytes(8), 1), "value type 99"),
    "unknown tensor type": (gguf_bytes(infos=info(b"w", (8,), kind=99), n_tensors=1, data=bytes(32)),
                            "ggml type 99"),
    "five dimensions": (gguf_bytes(infos=info(b"w", (1,) * 5), n_tensors=1, data=bytes(32)), "5 dimensions"),
    "huge sizes": (gguf_bytes(infos=info(b"w", (2**62,) * 4), n_tensors=1, data=bytes(32)), "does not fit"),
    "negative size": (gguf_bytes(infos=info(b"w", (2**64 - 1, 0)), n_tensors=1), "size of 2^63 or more"),
    "row not whole blocks": (gguf_bytes(infos=info(b"w", (33, 1), kind=8), n_tensors=1, data=bytes(64)),
                             "not a multiple of Q8_0's block of 32"),
    "misaligned": (gguf_bytes(infos=info(b"w", (1,), offset=4), n_tensors=1, data=bytes(64)), "does not fit"),
    "overlap": (gguf_bytes(infos=info(b"a", (8,)) + info(b"b", (8,)), n_tensors=2, data=bytes(64)), "overlap"),
    "twice": (gguf_bytes(infos=info(b"a", (8,)) + info(b"a", (8,), offset=32), n_tensors=2, data=bytes(64)),
              "appears twice"),
    "bad alignment": (gguf_bytes(gstr(b"general.alignment") + struct.pack("<II", 4, 3), 1), "power of two"),
}


def test_hand_built_file_is_what_gguf_reads(tmp_path):
    path = tmp_path / "one.gguf"
    path.write_bytes(ONE)
    reader = gguf.GGUFReader(str(path))
    assert [(t.name, t.n_elements, t.n_bytes) for t in reader.tensors] == [("w.weight", 8, 32)]
    assert learnable.count(path).total_params == 8


def test_tensor_data_is_never_read(tmp_path):
    """A 256 GiB tensor in a sparse file, counted within a second: touching its pages alone
    would take minutes (about 2 s per GiB here, mapped and read one byte a page)."""
    path = tmp_path / "big.gguf"
    head = gguf_bytes(infos=info(b"w.weight", (2**16, 2**16, 2**4)), n_tensors=1)  # F32: 2^36 × 4 bytes
    path.write_bytes(head)
    with path.open("r+b") as file:
        file.truncate(len(head) + 2**36 * 4)
    start = time.perf_counter()
    assert learnable.count(path).total_params == 2**36
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_files_are_one_clear_error(tmp_path, case):
    raw, message = HOSTILE[case]
    path = tmp_path / "bad.gguf"
    path.write_bytes(raw)
    start = time.perf_counter()
    with pytest.raises(learnable.LearnableError) as err:
        learnable.count(path)
    assert time.perf_counter() - start < 1.0
    assert message in str(err.value) and "bad.gguf" in str(err.value) and len(str(err.value)) < 1000


@pytest.mark.parametrize("case", ["huge array", "unknown tensor type", "truncated data"])
def test_hostile_files_exit_2_with_one_line(tmp_path, case):
    path = tmp_path / "bad.gguf"
    path.write_bytes(HOSTILE[case][0])
    result = run_cli("count", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and str(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_damaged_headers_give_a_report_or_one_error(llama, tmp_path):
    """Random bytes of a real header overwritten, 300 times: each is counted or refused with
    a LearnableError, never another exception, and quickly."""
    raw = bytearray(llama.read_bytes())
    header_end = read_header(llama, SIZES).data_offset
    rng = np.random.default_rng(16)
    path = tmp_path / "damaged.gguf"
    for _ in range(300):
        damaged = bytearray(raw)
        for at in rng.integers(0, header_end, size=int(rng.integers(1, 4))):
            damaged[at] = int(rng.integers(0, 256))
        path.write_bytes(damaged)
        start = time.perf_counter()
        try:
            learnable.count(path)
        except learnable.LearnableError as err:
            assert "\n" not in str(err)
        assert time.perf_counter() - start < 1.0
