"""Keras model files, read without Keras: ``.keras``, ``.h5`` and ``.weights.h5``.

The oracle is the live Keras model each file was saved from: every layer's
``count_params()``, trainable / non-trainable weights and output shape, and the model's
totals (``assert_matches_keras``, the live importer's own oracle). The files are read by
learnable alone: nothing in the reader imports Keras, as the blocked-import test shows.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("h5py")

from conftest import assert_formulas_hold, run_cli
from test_import_keras import LAYER_CASES, assert_matches_keras, one_layer_model

import learnable
from learnable.errors import SpecError
from learnable.importers import _keras_config, keras_file

pytestmark = [pytest.mark.frameworks, pytest.mark.filterwarnings("ignore::UserWarning")]
L = keras.layers


def saved(model, path: Path) -> learnable.Report:
    """The report of ``model`` as saved at ``path`` (.keras, .h5), read from the file."""
    model.save(path)
    return learnable.count(path)


def size(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def cnn():
    return keras.Sequential([
        keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu", name="conv_1"), L.Conv2D(64, 3, name="conv_2"),
        L.BatchNormalization(name="bn"), L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.5), L.Dense(128), L.Dense(10),
    ], name="cnn")


def shared_and_concatenated():
    x = keras.Input((16,), name="x")
    shared = L.Dense(8, name="shared")
    a, b = shared(x), shared(L.Dense(16, name="pre")(x))
    return keras.Model(x, L.Dense(2, name="head")(L.Concatenate(name="cat")([a, b, x])), name="shared")


def nested():
    inner = keras.Sequential([keras.Input((8,)), L.Dense(6, name="d1"), L.BatchNormalization(name="bn1")],
                             name="inner")
    frozen_in = keras.Input((6,))
    frozen = keras.Model(frozen_in, L.Dense(4, name="d2")(frozen_in), name="frozen")
    frozen.trainable = False
    x = keras.Input((8,), name="x")
    y = frozen(inner(x))
    return keras.Model(x, L.Add(name="sum")([y, frozen(L.Dense(6, name="side")(x))]), name="outer")


def text_model():
    tokens = keras.Input((20,), dtype="int32", name="tokens")
    x = L.Embedding(5000, 64, name="embed")(tokens)
    x = L.Bidirectional(L.LSTM(32, return_sequences=True), name="bilstm")(x)
    x = L.TimeDistributed(L.Dense(16), name="td")(x)
    x = L.LSTM(24, name="lstm")(x)
    return keras.Model(tokens, L.Dense(3, activation="softmax", name="out")(x), name="text")


MODELS = {"cnn": cnn, "shared": shared_and_concatenated, "nested": nested, "text": text_model}


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("build", MODELS.values(), ids=MODELS.keys())
def test_saved_model_counts_as_keras_does(tmp_path, build, suffix):
    model = build()
    report = saved(model, tmp_path / f"m{suffix}")
    assert_matches_keras(report, model)  # every layer's count, trainable split and output shape; the totals
    assert report.name == model.name


def test_batch_normalization_statistics_are_non_trainable(tmp_path):
    model = cnn()
    report = saved(model, tmp_path / "m.keras")
    bn = report.layer("bn")
    assert (bn.trainable, bn.non_trainable) == (2 * 64, 2 * 64)
    assert report.non_trainable_params == size(model.non_trainable_weights) == 2 * 64
    assert report.layer("conv_2").formula == "3×3×32×64 + 64 = 18,496"


def test_nested_models_are_blocks_and_frozen_ones_do_not_train(tmp_path):
    model = nested()
    report = saved(model, tmp_path / "m.keras")
    assert {b.name for b in report.blocks} == {"inner", "frozen", "frozen (2)"}
    assert report.layer("frozen/d2").non_trainable == 6 * 4 + 4
    assert report.layer("frozen (2)/d2").params == 0  # the second call shares the first's weights


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_mobilenet_v2(tmp_path, suffix):
    model = keras.applications.MobileNetV2(weights=None)
    report = saved(model, tmp_path / f"mobilenet{suffix}")
    assert_matches_keras(report, model)
    assert (report.total_params, report.non_trainable_params) == (model.count_params(), size(model.non_trainable_weights))


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`")
@pytest.mark.parametrize(("code", "shapes"), LAYER_CASES, ids=[c for c, _ in LAYER_CASES])
def test_each_keras_layer_saved_goes_through_its_rule(tmp_path, code, shapes):
    """The layer table reads a saved config as it reads the live layer's: each rule, each
    argument away from its default."""
    model, layer = one_layer_model(code, shapes)
    model.save(tmp_path / "m.keras")
    graph = keras_file.file_graph(tmp_path / "m.keras")
    assert graph.nodes[-1].rule.name == type(layer).__name__  # its own rule, not counted from tensors
    report = learnable.count(tmp_path / "m.keras")
    assert_matches_keras(report, model)
    for row in report.layers:
        assert_formulas_hold(row)


# ---- weights only ----------------------------------------------------------------------------------


def test_weights_file_rows_are_the_layers_tensors(tmp_path):
    model = nested()
    model.save_weights(tmp_path / "m.weights.h5")
    report = learnable.count(tmp_path / "m.weights.h5")
    assert report.total_params == model.count_params()
    assert report.non_trainable_params == 0 and "does not say which weights train" in report.notes[0]
    for path, layer in [("inner/d1", model.get_layer("inner").get_layer("d1")),
                        ("inner/bn1", model.get_layer("inner").get_layer("bn1")),
                        ("frozen/d2", model.get_layer("frozen").get_layer("d2")), ("side", model.get_layer("side"))]:
        assert report.layer(path).params == layer.count_params(), path
    assert {b.name for b in report.blocks} == {"inner", "frozen"}


def test_legacy_weights_name_the_batch_normalization_statistics(tmp_path):
    """An .h5 full-model file read as weights (its config removed): Keras 2's layout, named
    tensors, so moving_mean / moving_variance are non-trainable."""
    import h5py

    model = cnn()
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "a") as file:
        del file.attrs["model_config"]
    report = learnable.count(tmp_path / "m.h5")
    assert (report.total_params, report.non_trainable_params) == (model.count_params(), 2 * 64)
    assert report.layer("conv_2").params == model.get_layer("conv_2").count_params()


# ---- what a config cannot tell -----------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="tests")
class Scale(L.Layer):
    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1],))
        self.inner = L.Dense(2)
        self.inner.build(shape)

    def call(self, x):
        return self.inner(x * self.w)


def custom_model():
    x = keras.Input((5, 4), name="x")
    y = L.Lambda(lambda t: t * 2, name="double")(keras.ops.add(x, x))
    return keras.Model(x, L.Flatten(name="flat")(Scale(name="scale")(y)), name="custom")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_and_custom_layer_counted_from_the_weights_file(tmp_path, suffix):
    model = custom_model()
    report = saved(model, tmp_path / f"m{suffix}")
    if suffix == ".keras":
        assert_matches_keras(report, model)
    else:  # the legacy .h5 saves keras.ops.add as the class "Add", read as the Add layer: a row the oracle lacks
        assert (report.total_params, report.trainable_params) == (model.count_params(), size(model.trainable_weights))
    scale = report.layer("scale")
    assert scale.params == model.get_layer("scale").count_params() == 4 + 4 * 2 + 2
    assert "custom object (tests>Scale)" in scale.note
    assert ("model.weights.h5" if suffix == ".keras" else "m.h5") in scale.note
    assert "Lambda" in report.layer("double").note
    assert report.layer("double").output_shape == (5, 4)  # as the next layer recorded it
    # (ops are named by Keras's counters; Keras's legacy .h5 saves keras.ops.add as an Add layer)
    assert [r.type for r in report.layers][:3] == ["InputLayer", "ops.Add" if suffix == ".keras" else "Add", "Lambda"]


def without_member(path: Path, dropped: str) -> Path:
    out = path.with_name("stripped.keras")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename != dropped:
                target.writestr(info, source.read(info))
    return out


def test_a_compressed_keras_file_reads_alike(tmp_path):
    """Keras stores its members uncompressed (read through a window on the zip); a
    re-zipped, deflated file goes through zipfile's reader, to the same counts."""
    model = custom_model()
    model.save(tmp_path / "m.keras")
    deflated = tmp_path / "deflated.keras"
    with zipfile.ZipFile(tmp_path / "m.keras") as source, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
    assert_matches_keras(learnable.count(deflated), model)


def test_lambda_without_a_weights_file_is_refused_naming_it(tmp_path):
    custom_model().save(tmp_path / "m.keras")
    with pytest.raises(SpecError, match=r"Lambda 'double' is Python code \(a Lambda\), which is never run.*"
                                        "no weights file"):
        learnable.count(without_member(tmp_path / "m.keras", "model.weights.h5"))


# ---- no framework --------------------------------------------------------------------------------------

BLOCKED = ("keras", "tensorflow", "torch", "jax")


def test_a_keras_file_is_read_with_the_frameworks_blocked(tmp_path):
    model = text_model()
    model.save(tmp_path / "m.keras")
    expected = [model.count_params(), size(model.trainable_weights), size(model.non_trainable_weights)]
    script = f"""
import sys
for name in {BLOCKED!r}:
    sys.modules[name] = None  # any import of these now raises ImportError
import learnable
report = learnable.count({str(tmp_path / "m.keras")!r})
print([report.total_params, report.trainable_params, report.non_trainable_params])
print(sorted(m for m in {BLOCKED!r} + ("h5py",) if sys.modules.get(m) is not None))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    counts, loaded = result.stdout.strip().splitlines()
    assert json.loads(counts) == expected
    assert loaded == "[]"  # not even h5py: the config alone was read


def test_a_lambda_without_h5py_names_the_layer_and_the_extra(tmp_path):
    custom_model().save(tmp_path / "m.keras")
    script = f"""
import sys
sys.modules["h5py"] = None
import learnable
try:
    learnable.count({str(tmp_path / "m.keras")!r})
except learnable.LearnableError as err:
    print(err)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert "Lambda 'double'" in result.stdout and "pip install 'learnable[h5]'" in result.stdout, result.stderr


# ---- hostile files --------------------------------------------------------------------------------------


def keras_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def declaring(path: Path, member: str, declared: int) -> Path:
    """The zip with ``member``'s uncompressed size, as its central directory declares it,
    replaced by ``declared``."""
    raw = bytearray(path.read_bytes())
    entry = raw.index(b"PK\x01\x02")  # a central directory entry: its name at 46, its size at 24
    while raw[entry + 46:entry + 46 + len(member)] != member.encode():
        entry = raw.index(b"PK\x01\x02", entry + 4)
    raw[entry + 24:entry + 28] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    return path


def hostile(tmp_path: Path, kind: str) -> Path:
    good = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
        {"class_name": "Dense", "config": {"units": 2}}]}})
    path = tmp_path / "m.keras"
    if kind == "declared huge":
        return declaring(keras_zip(path, {"config.json": good}), "config.json", 2**32 - 1)
    if kind == "not json":
        return keras_zip(path, {"config.json": b"{'class_name': Sequential"})
    if kind == "no config":
        return keras_zip(path, {"metadata.json": b"{}", "model.weights.h5": b""})
    if kind == "unsafe path":
        return keras_zip(path, {"config.json": good, "../../evil.json": b"{}"})
    if kind == "not a zip":
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
        return path
    if kind == "lambda":
        lam = {"class_name": "Lambda", "config": {"name": "f", "function": {"class_name": "__lambda__",
                                                                            "config": {"code": "4wEAAAA"}}}}
        config = json.loads(good)
        config["config"]["layers"].append(lam)
        return keras_zip(path, {"config.json": json.dumps(config)})
    if kind == "bad shape":
        return keras_zip(path, {"config.json": good.replace("[null, 4]", '[null, "4; rm -rf"]')})
    raise AssertionError(kind)


HOSTILE = {
    "declared huge": "declares a 4,294,967,295-byte config.json",
    "not json": "config.json that is not JSON",
    "no config": "holds no config.json",
    "unsafe path": "unsafe path: '../../evil.json'",
    "not a zip": "not a zip archive",
    "lambda": "Lambda 'f' is Python code (a Lambda), which is never run",
    "bad shape": "InputLayer '",
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_keras_file_is_one_line_and_exit_2(tmp_path, kind):
    path = hostile(tmp_path, kind)
    result = run_cli("count", str(path))
    assert result.returncode == 2, result.stderr
    assert HOSTILE[kind] in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_zip_bomb_is_never_inflated(tmp_path, monkeypatch):
    """The bounded read stops at the limit, whatever the member declares."""
    monkeypatch.setattr(keras_file, "MAX_CONFIG", 1000)
    path = keras_zip(tmp_path / "m.keras", {"config.json": b" " * 10**7}, zipfile.ZIP_DEFLATED)
    with pytest.raises(SpecError, match="declares a 10,000,000-byte config.json"):
        learnable.count(path)
    declaring(path, "config.json", 100)
    with pytest.raises(SpecError, match="config.json"):
        learnable.count(path)


def test_layer_calls_are_bounded(monkeypatch):
    monkeypatch.setattr(_keras_config, "MAX_LAYERS", 3)
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 4]}, "name": "x", "inbound_nodes": []}]
    layers += [{"class_name": "Dense", "config": {"units": 2}, "name": f"d{i}", "inbound_nodes": [[["x", 0, 0, {}]]]}
               for i in range(5)]
    model = {"class_name": "Functional", "config": {"layers": layers, "input_layers": [["x", 0, 0]],
                                                    "output_layers": [["d0", 0, 0]]}}
    with pytest.raises(SpecError, match="more than 3 layer calls"):
        _keras_config.config_graph(model, _keras_config.Location("m.h5"))


def test_keras_2_config_by_hand():
    """Keras 2's layout (which Keras 3 no longer writes): inbound nodes as [name, call,
    tensor, kwargs] lists with no shapes, batch_input_shape, no module names; a frozen
    nested model freezes its layers. Counted by hand: Dense(4 → 3) and Dense(3 → 2)."""
    inner = {"class_name": "Sequential", "config": {"name": "inner", "trainable": False, "layers": [
        {"class_name": "Dense", "config": {"name": "d2", "units": 2, "batch_input_shape": [None, 3]}}]},
        "name": "inner", "inbound_nodes": [[["d1", 0, 0, {}]]]}
    model = {"class_name": "Model", "config": {"name": "k2", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "name": "x"}, "name": "x",
         "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "d1", "units": 3}, "name": "d1", "inbound_nodes": [[["x", 0, 0, {}]]]},
        inner], "input_layers": [["x", 0, 0]], "output_layers": [["inner", 0, 0]]}}
    report = learnable.engine.run(_keras_config.config_graph(model, _keras_config.Location("k2.h5")))
    assert [r.name for r in report.layers] == ["x", "d1", "inner/d2"]
    assert report.layer("d1").params == 4 * 3 + 3
    assert (report.layer("inner/d2").trainable, report.layer("inner/d2").non_trainable) == (0, 3 * 2 + 2)
    assert report.layer("inner/d2").output_shape == (2,)
