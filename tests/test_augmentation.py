"""Keras's random augmentation layers that keep their input's shape (rules/augment.py).

Keras is the oracle: each layer is built on a ``keras.Input`` and run on zeros (batch 2,
``training=True``, so the random transform really runs), and learnable's row must match its
weights (none: Keras's count_params() is 0 although each layer holds a SeedGenerator state
variable), its output shape and its signature. Where Keras refuses an input, learnable must
refuse it too.
"""

from __future__ import annotations

import pytest

import learnable
from learnable.rules import all_rules
from learnable.rules._args import REQUIRED as NO_DEFAULT

keras = pytest.importorskip("keras")
np = pytest.importorskip("numpy")

# The arguments each layer requires (Keras's own examples' values), else none.
REQUIRED = {
    "RandomBrightness": {"factor": 0.2}, "RandomContrast": {"factor": 0.2}, "RandomRotation": {"factor": 0.1},
    "RandomTranslation": {"height_factor": 0.1, "width_factor": 0.2}, "RandomZoom": {"height_factor": 0.1},
    "RandomColorDegeneration": {"factor": 0.5}, "RandomHue": {"factor": 0.5}, "RandomSaturation": {"factor": 0.5},
    "RandomSharpness": {"factor": 0.5}, "RandomPosterization": {"factor": 4},
}
NAMES = sorted(n for n in dir(keras.layers) if n.startswith("Random") and n != "RandomCrop")


def row_for(name: str, kwargs: dict, shape: tuple):
    return learnable.count({"input": list(shape), "layers": [{name: dict(kwargs)}]}).layers[-1]


def keras_outcome(name: str, kwargs: dict, shape: tuple):
    """(layer, output shape) as Keras builds it and runs it on zeros; raises what Keras raises."""
    layer = getattr(keras.layers, name)(**kwargs)
    symbolic = layer(keras.Input(shape))
    ran = layer(np.zeros((2, *shape), "float32") + 0.5, training=True)
    assert tuple(ran.shape[1:]) == tuple(symbolic.shape[1:])
    return layer, tuple(ran.shape[1:])


def test_every_keras_random_layer_has_a_rule():
    ours = {r.name for r in all_rules() if r.name.startswith("Random") and r.framework == "keras"}
    assert set(NAMES) | {"RandomCrop"} == ours


@pytest.mark.frameworks
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape, data_format", [((32, 32, 3), None), ((3, 20, 24), "channels_first")])
def test_no_weights_and_the_same_shape_as_keras(name, shape, data_format):
    from frameworks import assert_row_matches_keras

    kwargs = dict(REQUIRED.get(name, {}))
    if data_format and "data_format" in _parameters(name):
        kwargs["data_format"] = data_format
    elif data_format:  # (RandomBrightness, RandomContrast: no data_format; any layout keeps its shape)
        shape = (20, 24, 3)
    layer, output = keras_outcome(name, kwargs, shape)
    assert layer.count_params() == 0 and layer.weights == [] and layer.non_trainable_weights == []
    # the state Keras keeps but does not count
    assert [tuple(v.shape) for v in layer.variables] == [(2,)] and "seed_generator_state" in layer.variables[0].path
    row = row_for(name, kwargs, shape)
    assert_row_matches_keras(row, layer, output)
    assert (row.macs, row.buffers) == (0, 0)


@pytest.mark.frameworks
def test_a_model_of_them_counts_nothing_in_keras_either():
    layers = [getattr(keras.layers, n)(**REQUIRED.get(n, {})) for n in
              ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness")]
    model = keras.Sequential([keras.Input((32, 32, 3)), *layers, keras.layers.Conv2D(8, 3)])
    spec = {"input": [32, 32, 3], "layers": [{type(layer).__name__: REQUIRED.get(type(layer).__name__, {})}
                                               for layer in layers] + [{"Conv2D": [8, 3]}]}
    report = learnable.count(spec)
    assert model.count_params() == report.total_params == 3 * 3 * 3 * 8 + 8
    assert model.non_trainable_weights == [] and report.non_trainable_params == 0
    assert len(model.non_trainable_variables) == 6  # the seed states: variables, not weights
    imported = learnable.count(model)  # the importer reaches the same rules
    assert [row.type for row in imported.layers[1:-1]] == [type(layer).__name__ for layer in layers]
    assert imported.total_params == model.count_params()


def _parameters(name: str) -> list[str]:
    import inspect

    skip = {"self", "kwargs", "args", "name"}
    return [p for p in inspect.signature(getattr(keras.layers, name).__init__).parameters if p not in skip]


@pytest.mark.frameworks
@pytest.mark.parametrize("name", NAMES)
def test_signatures_follow_keras(name):
    from learnable.rules import lookup

    rule = lookup(name)
    assert [a.name for a in rule.args] == _parameters(name)
    required = [a.name for a in rule.args if a.default is NO_DEFAULT]
    assert required == sorted(REQUIRED.get(name, {}), key=_parameters(name).index)


COLOUR_CASES = [  # Keras decides: it builds and runs these, or refuses them
    ("RandomHue", {"factor": 0.5}, (8, 9, 1)), ("RandomHue", {"factor": 0.5}, (8, 9, 4)),
    ("RandomSaturation", {"factor": 0.5}, (8, 9, 2)), ("RandomSaturation", {"factor": 0.5}, (8, 9, 3)),
    ("RandomColorDegeneration", {"factor": 0.5}, (8, 9, 1)),
    ("RandomColorDegeneration", {"factor": 0.5, "data_format": "channels_first"}, (3, 8, 9)),
    ("RandomGrayscale", {}, (8, 9, 1)), ("RandomGrayscale", {}, (8, 9, 2)), ("RandomGrayscale", {}, (8, 9, 3)),
    ("RandomGrayscale", {"data_format": "channels_first"}, (4, 8, 9)),
    ("RandomColorJitter", {"brightness_factor": 0.2, "contrast_factor": 0.2}, (8, 9, 2)),
    ("RandomColorJitter", {"saturation_factor": 0.2}, (8, 9, 2)), ("RandomColorJitter", {"hue_factor": 0.2}, (8, 9, 3)),
    ("RandomInvert", {}, (8, 9, 5)),
]


@pytest.mark.frameworks
@pytest.mark.parametrize("name, kwargs, shape", COLOUR_CASES, ids=[str(c) for c in COLOUR_CASES])
def test_colour_layers_need_the_channels_keras_needs(name, kwargs, shape):
    try:
        _, output = keras_outcome(name, kwargs, shape)
    except (ValueError, RuntimeError):
        with pytest.raises(learnable.LearnableError, match="channels"):
            row_for(name, kwargs, shape)
        return
    assert row_for(name, kwargs, shape).output_shape == output


@pytest.mark.frameworks
def test_a_2d_example_is_refused_where_keras_reads_the_batch_as_height():
    """Keras takes a 3-D tensor as one unbatched image: a batch of (7, 5) examples comes back
    with a shape that depends on the batch. learnable refuses the 2-D example."""
    layer = keras.layers.RandomFlip()
    assert tuple(layer(np.zeros((2, 7, 5), "float32"), training=True).shape) == (2, 7, 5)
    with pytest.raises(learnable.LearnableError, match="3-D input"):
        row_for("RandomFlip", {}, (7, 5))
    with pytest.raises(learnable.LearnableError, match="3-D input"):
        row_for("RandomBrightness", {"factor": 0.2}, (4, 8, 8, 3))
