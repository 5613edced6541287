"""The parameters-per-layer chart (render/plot.py): which bars, which scale, the files it writes.

Choosing the bars is plain Python and is tested everywhere; drawing needs matplotlib (the
``[plot]`` extra) and those tests skip without it. Expected counts are hand arithmetic.
"""

from __future__ import annotations

import importlib.util
import struct
import subprocess
import sys

import pytest

import learnable
from conftest import EXAMPLES, ROOT
from learnable.errors import SpecError
from learnable.render.plot import LOG_SPREAD, bars, plot, use_log_scale

needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="matplotlib is not installed (pip install 'learnable[plot]')")

SIMPLE_CNN = EXAMPLES / "simple_cnn.yaml"
FLAT = "Input(100) | Dense(100) | Dense(100) | Dense(10)"  # 10,100; 10,100; 1,010: a spread of 10
RESNET50_TOTAL = 25_636_712  # keras.applications.ResNet50(weights=None), as in test_zoo_resnet.py


def _svg(tmp_path, source, **options) -> str:
    path = tmp_path / "chart.svg"
    plot(learnable.count(source), path, **options)
    return path.read_text(encoding="utf-8")


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", data[16:24])  # IHDR: width, height


# --- the bars (no matplotlib needed) ---------------------------------------------------------

def test_simple_cnn_bars_are_the_layers_with_parameters_in_source_order():
    chosen, grouped = bars(learnable.count(SIMPLE_CNN))
    assert [(b.label.split()[0], b.params) for b in chosen] == [
        ("conv_1", 3 * 3 * 1 * 32 + 32),
        ("conv_2", 3 * 3 * 32 * 64 + 64),
        ("fc_1", (9216 + 1) * 128),
        ("fc_2", (128 + 1) * 10),
    ]
    assert grouped == 0


@pytest.mark.parametrize("depth", [0, 1, 2, 9])
def test_resnet50_bars_add_up_to_the_total_at_every_depth(depth):
    chosen, _ = bars(learnable.count("zoo:resnet50"), depth)
    assert sum(b.params for b in chosen if b.kind != "heading") == RESNET50_TOTAL


def test_depth_0_collapses_each_resnet_stack_into_one_bar():
    chosen, _ = bars(learnable.count("zoo:resnet50"))
    stacks = [b for b in chosen if b.kind == "block"]
    assert [b.label.split()[0] for b in stacks] == ["conv2", "conv3", "conv4", "conv5"]
    assert not any(b.kind == "heading" for b in chosen)


def test_depth_1_opens_the_stacks_into_headings_with_their_blocks_beneath():
    chosen, _ = bars(learnable.count("zoo:resnet50"), 1)
    headings = [b for b in chosen if b.kind == "heading"]
    assert [b.label.split()[0] for b in headings] == ["conv2", "conv3", "conv4", "conv5"]
    assert all("in all" in b.label for b in headings)


def test_a_large_network_is_capped_with_the_smallest_grouped_as_other_layers():
    report = learnable.count("zoo:resnet50")
    every, _ = bars(report, 9, max_bars=10_000)
    chosen, grouped = bars(report, 9, max_bars=20)
    assert len(chosen) <= 20
    other = chosen[-1]
    assert other.kind == "other" and other.label == f"other {grouped} layers" and grouped > 0
    sizes = sorted(b.params for b in every if b.kind != "heading")
    assert other.params == sum(sizes[:grouped])  # exactly the smallest ones
    kept = [b for b in chosen if b.kind in ("layer", "block")]
    assert sum(b.params for b in kept) + other.params == RESNET50_TOTAL


def test_pytorch_buffers_stay_apart_from_params():
    chosen, _ = bars(learnable.count("zoo:resnet50_torch"))
    bn1 = next(b for b in chosen if b.label.startswith("bn1 "))
    assert (bn1.params, bn1.buffers) == (2 * 64, 2 * 64 + 1)  # weight, bias; mean, var, num_batches_tracked


# --- the scale --------------------------------------------------------------------------------

@pytest.mark.parametrize(("counts", "log"), [
    ([320, 18_496, (9216 + 1) * 128, 1_290], True),  # simple-cnn: 3,687×
    ([10_100, 10_100, 1_010], False),  # flat
    ([100, 100 * LOG_SPREAD], False),  # exactly the threshold: still linear
    ([100, 100 * LOG_SPREAD + 1], True),
    ([0, 0, 5, 4_000], False),  # zeros are not part of the spread
    ([], False),
])
def test_log_scale_when_the_spread_exceeds_the_threshold(counts, log):
    assert use_log_scale(counts) is log


@needs_matplotlib
def test_resnet50_is_drawn_on_a_log_axis_and_a_flat_network_on_a_linear_one(tmp_path):
    assert "Parameters (log scale)" in _svg(tmp_path, "zoo:resnet50")
    flat = _svg(tmp_path, FLAT)
    assert "Parameters</text>" in flat and "log scale" not in flat


# --- the files --------------------------------------------------------------------------------

@needs_matplotlib
@pytest.mark.parametrize(("source", "depth"), [(str(SIMPLE_CNN), 0), ("zoo:resnet50", 0), ("zoo:resnet50", 1)])
def test_png_and_svg_are_written(tmp_path, source, depth):
    report = learnable.count(source)
    plot(report, tmp_path / "chart.png", depth=depth)
    plot(report, tmp_path / "chart.SVG", depth=depth)
    width, height = _png_size(tmp_path / "chart.png")
    assert width == 1200 and height > 300
    svg = (tmp_path / "chart.SVG").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert f"{report.total_params:,} params" in svg


@needs_matplotlib
def test_the_svg_labels_the_largest_layer_and_titles_the_model(tmp_path):
    svg = _svg(tmp_path, SIMPLE_CNN)
    assert f"{(9216 + 1) * 128:,}" == "1,179,776" and "1,179,776" in svg  # fc_1
    assert "simple-cnn: 1,199,882 params (Keras convention)" in svg
    assert "fc_1  (Dense)" in svg


@needs_matplotlib
def test_a_title_given_replaces_the_default(tmp_path):
    svg = _svg(tmp_path, SIMPLE_CNN, title="Figure 3")
    assert "Figure 3" in svg and "simple-cnn:" not in svg


@needs_matplotlib
def test_buffers_are_a_hatched_segment_in_the_legend(tmp_path):
    svg = _svg(tmp_path, "zoo:resnet50_torch")
    assert "buffers (not params)" in svg and "<pattern" in svg  # the hatch
    assert "(PyTorch convention), 53,173 buffers" in svg
    assert "<pattern" not in _svg(tmp_path, SIMPLE_CNN)


@needs_matplotlib
def test_a_capped_chart_says_how_many_layers_are_grouped(tmp_path):
    _, grouped = bars(learnable.count("zoo:resnet50"), 9)
    assert grouped > 0
    svg = _svg(tmp_path, "zoo:resnet50", depth=9)
    assert f"other {grouped} layers" in svg and "smaller ones are grouped" in svg


@needs_matplotlib
@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_two_runs_write_identical_bytes(tmp_path, suffix):
    report = learnable.count("zoo:resnet50_torch")
    plot(report, tmp_path / f"a{suffix}", depth=1)
    plot(report, tmp_path / f"b{suffix}", depth=1)
    assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()


@needs_matplotlib
def test_an_unwritable_path_is_a_user_error(tmp_path):
    with pytest.raises(SpecError, match="cannot write the plot"):
        plot(learnable.count(SIMPLE_CNN), tmp_path / "missing" / "chart.png")


# --- errors without matplotlib ----------------------------------------------------------------

@pytest.mark.parametrize(("name", "shown"), [("chart.pdf", "'.pdf'"), ("chart", "no suffix")])
def test_a_bad_suffix_is_a_clear_error(tmp_path, name, shown):
    with pytest.raises(SpecError, match=r"\.png or \.svg") as caught:
        plot(learnable.count(SIMPLE_CNN), tmp_path / name)
    assert shown in str(caught.value)
    assert not (tmp_path / name).exists()


def test_a_negative_depth_is_a_user_error(tmp_path):
    with pytest.raises(SpecError, match="depth must be 0 or more"):
        plot(learnable.count(SIMPLE_CNN), tmp_path / "chart.png", depth=-1)


def _run_blocked(code: str) -> subprocess.CompletedProcess:
    prelude = "import sys; sys.modules['matplotlib'] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_without_matplotlib_the_error_says_how_to_install_it(tmp_path):
    result = _run_blocked(
        "import learnable\n"
        "from learnable.render.plot import plot\n"
        "try:\n"
        f"    plot(learnable.count({str(SIMPLE_CNN)!r}), {str(tmp_path / 'chart.png')!r})\n"
        "except learnable.errors.SpecError as error:\n"
        "    print('SpecError:', error)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "SpecError: plotting needs matplotlib" in result.stdout
    assert "pip install 'learnable[plot]'" in result.stdout


def test_importing_learnable_and_the_plot_module_does_not_load_matplotlib():
    result = subprocess.run(
        [sys.executable, "-c", "import sys, learnable, learnable.render.plot\n"
                               "print('matplotlib' in sys.modules)"],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_cli_plot_writes_the_file(tmp_path):
    pytest.importorskip("matplotlib")
    from conftest import EXAMPLES, run_cli

    result = run_cli("plot", str(EXAMPLES / "simple_cnn.yaml"), "-o", str(tmp_path / "p.svg"))
    assert result.returncode == 0, result.stderr
    assert "1,179,776" in (tmp_path / "p.svg").read_text()
