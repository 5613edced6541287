"""What model code does to a model after building it (adds to a container, deletes, replaces
or removes a tensor, freezes through parameters() or model.layers), read as the framework
does it. The oracle is the framework itself: each snippet is run with PyTorch or Keras here
(test code), and learnable, which never runs it, must give the same totals."""

from __future__ import annotations

import math
import os
import textwrap

import pytest

import learnable

os.environ.setdefault("KERAS_BACKEND", "torch")

TORCH_CASES = {
    "module_list_and_sequential_grow_in_place": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList()
                self.layers.append(nn.Linear(8, 16))
                self.layers.extend([nn.ReLU(), nn.Linear(16, 8)])
                self.layers.insert(0, nn.Linear(8, 8))
                self.layers += [nn.Linear(8, 4)]
                seq = nn.Sequential(nn.Linear(4, 4))
                seq += nn.Sequential(nn.Linear(4, 2))
                self.seq = seq + nn.Sequential(nn.ReLU())
                self.twice = nn.Sequential(nn.Linear(2, 2)) * 2
            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                return self.twice(self.seq(x))
        net = Net()
        """, (8,)),
    "a_list_grows_in_place_through_another_name": ("""
        layers = [nn.Linear(8, 8)]
        alias = layers
        alias += [nn.ReLU(), nn.Linear(8, 2)]
        net = nn.Sequential(*layers)
        """, (8,)),
    "del_removes_a_module_or_items": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.aux = nn.Linear(8, 100)
                self.out = nn.Linear(8, 2)
            def forward(self, x):
                return self.out(self.fc(x))
        net = Net()
        del net.aux
        seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 3), nn.Linear(3, 2))
        del seq[-1]
        heads = nn.ModuleList([nn.Linear(4, 4) for _ in range(5)])
        del heads[1:3], heads[0]
        model = nn.ModuleDict({"net": net, "seq": seq, "heads": heads})
        """, None),
    "a_tensor_set_to_none_or_replaced": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
                self.fc.weight = nn.Parameter(torch.zeros(8, 8))
                self.fc.bias = None
                self.fc.scale = nn.Parameter(torch.ones(8))
                self.norm = nn.LayerNorm(8)
                self.norm.bias = None
            def forward(self, x):
                return self.norm(self.fc(x))
        net = Net()
        """, (8,)),
    "children_sliced_into_a_new_head": ("""
        base = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(16, 1000))
        net = nn.Sequential(*list(base.children())[:-1], nn.Linear(16, 10))
        """, (3, 32, 32)),
    "frozen_through_parameters": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                                              nn.AdaptiveAvgPool2d(1), nn.Flatten())
                self.fc = nn.Linear(8, 2)
            def forward(self, x):
                return self.fc(self.features(x))
        net = Net()
        for param in net.features.parameters():
            param.requires_grad = False
        """, (3, 8, 8)),
    "frozen_by_name_through_named_parameters": ("""
        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        for name, p in net.named_parameters():
            if not name.startswith("2"):
                p.requires_grad_(False)
        """, (4,)),
    "a_frozen_layer_with_its_bias_unfrozen": ("""
        net = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 2))
        net[0].requires_grad_(False)
        net[0].bias.requires_grad = True
        """, (8,)),
    "frozen_by_type_through_modules_and_apply": ("""
        def init(m):
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
            if m.__class__.__name__.startswith("BatchNorm"):
                m.requires_grad_(False)
        net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
        net.apply(init)
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.requires_grad = False
        total = sum(p.numel() for p in net.parameters())
        """, (3, 8, 8)),
    "weight_norm_and_frozen_pretrained_embedding": ("""
        from torch.nn.utils import weight_norm
        from torch.nn.utils.parametrizations import weight_norm as wn
        net = nn.Sequential(weight_norm(nn.Conv1d(4, 8, 3)), wn(nn.Linear(6, 6)))
        table = nn.Embedding.from_pretrained(torch.zeros(100, 16))
        model = nn.ModuleList([net, table, nn.Embedding.from_pretrained(torch.zeros(10, 4), freeze=False)])
        """, None),
    "a_tied_weight_frozen_through_either_layer": ("""
        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.wte = nn.Embedding(100, 16)
                self.mid = nn.Linear(16, 16)
                self.lm_head = nn.Linear(16, 100)
                self.wte.weight = self.lm_head.weight  # the head has a bias the embedding lacks
                self.head2 = nn.Linear(16, 16, bias=False)
                self.head2.weight = self.mid.weight
            def forward(self, x):
                return self.lm_head(self.head2(self.mid(self.wte(x))))
        net = LM()
        net.wte.weight.requires_grad = False
        net.head2.requires_grad_(False)
        """, (8,)),
    "weight_norm_frozen_by_module_and_by_name": ("""
        from torch.nn.utils import weight_norm, remove_weight_norm
        from torch.nn.utils.parametrizations import weight_norm as wn
        net = nn.Sequential(weight_norm(nn.Linear(8, 8), dim=-1), wn(nn.Linear(8, 8), dim=1),
                            weight_norm(nn.Linear(8, 4)), weight_norm(nn.Linear(4, 4)))
        net[0].requires_grad_(False)
        for name, p in net.named_parameters():
            if name.endswith("weight_g") or name.endswith("original0"):
                p.requires_grad = False
        remove_weight_norm(net[3])
        """, (8,)),
    "one_parameter_given_to_two_layers_and_a_lora_adapter": ("""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.W = nn.Parameter(torch.randn(8, 8))
                self.a = nn.Linear(8, 8)
                self.b = nn.Linear(8, 8)
                self.a.weight = self.W
                self.b.weight = self.W
                self.lora = nn.Linear(8, 2)
                self.lora.lora_A = nn.Parameter(torch.zeros(4, 8))
            def forward(self, x):
                return self.lora(self.b(self.a(x)) @ self.W)
        net = Net()
        net.lora.requires_grad_(False)
        net.lora.lora_A.requires_grad = True
        """, (8,)),
    "a_sequential_made_by_adding_two": ("""
        head = nn.Sequential(nn.Linear(8, 2))
        net = nn.Sequential(nn.Linear(8, 8), nn.ReLU()) + head
        """, (8,)),
    "position_ids_expanded_into_a_buffer_and_broadcast_over_the_batch": ("""
        class Embeddings(nn.Module):  # as BERT's embeddings make and use them
            def __init__(self):
                super().__init__()
                self.word = nn.Embedding(100, 8)
                self.position = nn.Embedding(16, 8)
                self.register_buffer("position_ids", torch.arange(16).expand((1, -1)), persistent=False)
                self.fc = nn.Linear(8, 2)
            def forward(self, ids):
                positions = self.position(self.position_ids[:, :ids.size(1)])
                return self.fc(self.word(ids) + positions)
        net = Embeddings()
        """, None),
}

KERAS_CASES = {
    "a_layer_made_not_trainable": """
        inp = keras.Input((4,))
        model = keras.Model(inp, layers.Dense(1)(layers.Dense(8, trainable=False)(inp)))
        """,
    "a_model_made_not_trainable_stays_trainable_inside_another": """
        inner = keras.Sequential([layers.Dense(8), layers.Dense(8)], trainable=False)
        inp = keras.Input((4,))
        model = keras.Model(inp, layers.Dense(1)(inner(inp)))
        """,
    "the_model_counted_made_not_trainable": """
        model = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.Dense(8)], trainable=False)
        """,
    "a_subclassed_layer_switched_off_and_on": """
        class Block(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.d = layers.Dense(8)
            def build(self, shape):
                self.w = self.add_weight(shape=(8,), trainable=False)
                self.v = self.add_weight(shape=(8,))
            def call(self, x):
                return self.d(x) * self.w + self.v
        inp = keras.Input((4,))
        b = Block()
        b.trainable = False
        out = b(inp)
        b.trainable = True
        model = keras.Model(inp, layers.Dense(1)(out))
        """,
    "a_frozen_base_with_its_last_layer_trainable": """
        base = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.BatchNormalization(), layers.Dense(8)])
        base.trainable = False
        base.layers[-1].trainable = True
        inp = keras.Input((4,))
        model = keras.Model(inp, layers.Dense(1)(base(inp)))
        """,
    "functional_layers_in_keras_order": """
        a = keras.Input((4,), name="a")
        b = keras.Input((4,), name="b")
        x = layers.Dense(3, name="d1")(a)
        y = layers.Dense(3, name="d2")(b)
        z = layers.Dense(2, name="d3")(layers.Add(name="add")([y, x]))
        w = layers.Dense(2, name="side")(a)
        model = keras.Model([a, b], [z, w])
        for layer in model.layers[:4]:
            layer.trainable = False
        """,
    "shared_layers_nested_models_and_get_layer": """
        shared = layers.Dense(4, name="shared")
        a = keras.Input((4,), name="a")
        h = shared(layers.Dense(4, name="mid")(shared(a)))
        inner = keras.Sequential([layers.Dense(4), layers.Dense(4)], name="inner")
        model = keras.Model(a, layers.Dense(1, name="out")(inner(h)))
        model.get_layer("mid").trainable = False
        model.layers[-2].layers[0].trainable = False
        """,
    "a_subclassed_model_built_on_an_input": """
        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.d = layers.Dense(4)
            def call(self, x):
                return self.d(x)
        model = Net()
        model(keras.Input(shape=(8,)))
        """,
    "an_embedding_frozen_by_index": """
        inp = keras.Input((20,), dtype="int32")
        x = layers.GlobalAveragePooling1D()(layers.Embedding(1000, 50)(inp))
        model = keras.Model(inp, layers.Dense(1)(x))
        model.layers[1].trainable = False
        """,
}


def _torch_counts(code: str) -> tuple[int, int, int]:
    pytest.importorskip("torch")
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # test code: the framework is the oracle
    model = namespace.get("model", namespace.get("net"))
    params = {id(p): p for p in model.parameters()}.values()
    return (sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad),
            sum(b.numel() for b in model.buffers()))


@pytest.mark.parametrize("name", TORCH_CASES)
def test_pytorch_code_is_counted_as_pytorch_counts_it(name):
    body, input_shape = TORCH_CASES[name]
    code = "import torch\nimport torch.nn as nn\n" + textwrap.dedent(body)
    total, trainable, buffers = _torch_counts(code)
    report = learnable.count(code, input_shape=input_shape)  # (the model counted by default: the last one built)
    assert (report.total_params, report.trainable_params, report.total_buffers) == (total, trainable, buffers)


@pytest.mark.parametrize("name", KERAS_CASES)
def test_keras_code_is_counted_as_keras_counts_it(name):
    pytest.importorskip("keras")
    code = "import keras\nfrom keras import layers\n" + textwrap.dedent(KERAS_CASES[name])
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)  # test code: the framework is the oracle
    model = namespace["model"]
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    report = learnable.count(code)
    assert (report.total_params, report.trainable_params) == (model.count_params(), trainable)


def test_keras_functional_layers_are_listed_in_keras_order():  # by depth: model.layers[:4] is b, a, d2, d1
    keras = pytest.importorskip("keras")
    code = "import keras\nfrom keras import layers\n" + textwrap.dedent(KERAS_CASES["functional_layers_in_keras_order"])
    namespace: dict = {"keras": keras}
    exec(compile(code, "<snippet>", "exec"), namespace)
    frozen = [layer.name for layer in namespace["model"].layers if layer.weights and not layer.trainable]
    report = learnable.count(code)
    assert sorted(r.name for r in report.layers if r.params and not r.trainable) == sorted(frozen) == ["d1", "d2"]


@pytest.mark.parametrize("code, message", [
    ("net = nn.Sequential(nn.Linear(4, 4))\nif FREEZE:\n    net[0].requires_grad_(False)\n",
     "what it freezes or unfreezes (`net[0].requires_grad_`) is not known"),
    ("from config import FREEZE\nnet = nn.Sequential(nn.Linear(4, 4))\nfor p in net.parameters():\n"
     "    p.requires_grad = FREEZE\n", None),
])
def test_freezing_that_depends_on_unknown_values_is_said(code, message):
    code = "import torch.nn as nn\n" + code
    if message is None:
        with pytest.raises(learnable.LearnableError, match="whether a tensor trains is not known"):
            learnable.count(code)
        return
    report = learnable.count(code)
    assert report.trainable_params == report.total_params == 4 * 4 + 4
    assert any(message in note for note in report.notes)


@pytest.mark.parametrize("code, message", [
    ("net = nn.Sequential(nn.utils.spectral_norm(nn.Linear(4, 4)))\n", "spectral_norm.*is not read"),
    # changed in place, the result not kept
    ("net = nn.Sequential(nn.Linear(4, 4))\nnn.utils.spectral_norm(net[0])\n",
     "spectral_norm.*changed the tensors of nn.Linear '0'"),
    ("from somewhere import backbone\nnet = nn.Sequential(backbone, nn.Linear(8, 8))\n",
     "the model's '0' is not known.*'somewhere.backbone' comes from a module that is not in the code"),
    ("import timm\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
     "        self.backbone = timm.create_model('resnet18')\n        self.head = nn.Linear(512, 10)\nnet = Net()\n",
     "the model's 'backbone' is not known.*timm.create_model.*FILE.py:NAME"),
])
def test_what_changes_a_model_in_ways_not_read_is_refused_not_guessed(code, message):
    with pytest.raises(learnable.LearnableError, match=message):
        learnable.count("import torch.nn as nn\n" + code)
