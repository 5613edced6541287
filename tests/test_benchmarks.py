"""The benchmark's synthetic specs count to what their layers add up to by hand. No timing
here: benchmarks/run.py measures, tests only check that it measures the right networks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import learnable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: `benchmarks`
from benchmarks.run import branching, sequential
from benchmarks.synthetic import write_json, write_yaml

DENSE = 64 * 64 + 64  # a Dense(64) on 64 features: kernel + bias


@pytest.mark.parametrize("generate", [sequential, branching])
@pytest.mark.parametrize("write", [None, write_yaml, write_json])
def test_a_1000_layer_spec_counts_by_hand(generate, write, tmp_path):
    spec = generate(1000)
    source = spec if write is None else str(write(spec, tmp_path / f"spec.{write.__name__[6:]}"))
    report = learnable.count(source)
    assert len(report.layers) == 1 + 1000  # the input row, then every layer
    assert report.total_params == 500 * DENSE == 2_080_000  # half the layers are Dense in both
    assert [row.params for row in report.layers[1:5]] == [DENSE, 0, DENSE, 0]
    assert report.layers[-1].output_shape == (64,)


def test_branching_blocks_add_their_input_back():
    report = learnable.count(branching(8))
    adds = [row for row in report.layers if row.type == "Add"]
    assert [row.name for row in adds] == ["x0", "x1"]


@pytest.mark.parametrize("generate, layers", [(sequential, 3), (branching, 6), (branching, 0)])
def test_sizes_that_do_not_fill_whole_blocks_are_refused(generate, layers):
    with pytest.raises(ValueError, match="multiple"):
        generate(layers)


@pytest.mark.frameworks
def test_the_sweep_peers_build_the_variants_learnable_counts():
    """Each of the sweep's 16 variants, built in torch and in Keras by benchmarks/networks.py."""
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    from benchmarks.networks import SWEEP, keras_seed, torch_seed

    for variant in learnable.sweep("examples/simple_cnn.yaml", SWEEP):
        filters, units = variant.values.values()
        built = sum(p.numel() for p in torch_seed(filters, units).parameters())
        keras.backend.clear_session()
        assert variant.report.total_params == built == keras_seed(filters, units).count_params()
