"""The code reader (learnable.code): Python model code read with ast, never run.

Expected counts are hand arithmetic; the corpus (test_code_corpus.py) checks whole models
against the frameworks themselves. Here: the Python the reader understands, what it refuses
and where, that nothing is ever executed, and the bounds on its work.
"""

from __future__ import annotations

import re
import textwrap

import pytest

import learnable
from conftest import run_cli


def count(code: str, **options):
    return learnable.count(textwrap.dedent(code), **options)


def error(code: str, **options) -> str:
    with pytest.raises(learnable.LearnableError) as caught:
        count(code, **options)
    return str(caught.value)


# ---- Python: constants, loops, functions --------------------------------------------------


def test_constants_loops_and_helpers_build_a_keras_model():
    report = count("""
        import keras
        from keras import layers

        num_classes = 2 ** 3 + 2
        widths = [16, 32]

        def block(x, filters, kernel_size=3, *, pool=True):
            x = layers.Conv2D(filters, kernel_size, padding="same")(x)
            return layers.MaxPooling2D()(x) if pool else x

        inputs = keras.Input(shape=(16, 16, 3))
        x = inputs
        for i, width in enumerate(widths):
            x = block(x, width, pool=i < len(widths) - 1)
        x = layers.Flatten()(x)
        outputs = layers.Dense(num_classes)(x)
        model = keras.Model(inputs, outputs)
        model.summary()
    """)
    conv1, conv2 = 3 * 3 * 3 * 16 + 16, 3 * 3 * 16 * 32 + 32
    assert report.total_params == conv1 + conv2 + (8 * 8 * 32 * 10 + 10)
    assert [r.name for r in report.layers] == ["input_layer", "conv2d", "max_pooling2d", "conv2d_1", "flatten",
                                               "dense"]


def test_comprehensions_star_args_and_partial_build_a_torch_module():
    report = count("""
        import functools
        import torch.nn as nn

        def mlp(*sizes, act=nn.ReLU):
            pairs = zip(sizes[:-1], sizes[1:])
            return nn.Sequential(*[m for a, b in pairs for m in (nn.Linear(a, b), act())])

        Norm = functools.partial(nn.LayerNorm, eps=1e-6)
        model = nn.Sequential(mlp(8, 16, 4), Norm(4))
    """)
    assert report.total_params == (8 * 16 + 16) + (16 * 4 + 4) + 2 * 4
    assert report.notes  # no input: counted from the constructors, and said


def test_a_dataclass_config_and_class_attributes():
    report = count("""
        from dataclasses import dataclass
        import torch.nn as nn

        @dataclass
        class Config:
            width: int = 32
            depth: int = 3

        class Stack(nn.Module):
            expansion = 2

            def __init__(self, config):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(config.width, config.width * self.expansion // 2)
                                             for _ in range(config.depth)])

            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x

        model = Stack(Config(depth=2))
    """, input_shape=(32,))
    assert report.total_params == 2 * (32 * 32 + 32)
    assert [r.name for r in report.layers] == ["x", "layers.0", "layers.1"]


# ---- PyTorch forward ----------------------------------------------------------------------


LENET = textwrap.dedent("""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 4 * 4, 120)
            self.fc2 = nn.Linear(120, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), (2, 2))
            x = x.view(x.size(0), -1)
            x = F.relu(self.fc1(x))
            return self.fc2(x)
""")
LENET_PARAMS = (5 * 5 * 1 * 6 + 6) + (5 * 5 * 6 * 16 + 16) + (256 * 120 + 120) + (120 * 10 + 10)


def test_forward_is_followed_with_an_input():
    report = count(LENET + "\nnet = Net()\n", input_shape=(1, 28, 28))
    assert report.total_params == LENET_PARAMS
    shapes = {r.name: r.output_shape for r in report.layers}
    assert shapes["conv1"] == (6, 24, 24) and shapes["max_pool2d"] == (6, 12, 12)
    assert shapes["view"] == (16 * 4 * 4,) and shapes["fc2"] == (10,)
    assert report.layer("view").shape_formula == "16×4×4 = 256"
    assert not report.notes


def test_without_an_input_counts_come_from_the_constructors_and_the_report_says_so():
    report = count(LENET + "\nnet = Net()\n")
    assert report.total_params == LENET_PARAMS
    assert [r.name for r in report.layers] == ["conv1", "conv2", "fc1", "fc2"]
    assert "no input shape" in report.notes[0] and "--input" in report.notes[0]


@pytest.mark.parametrize("line", ["out = net(torch.randn(1, 1, 28, 28))",
                                  "from torchsummary import summary\nsummary(net, (1, 28, 28))",
                                  "from torchinfo import summary\nsummary(net, input_size=(64, 1, 28, 28))"])
def test_an_input_the_code_feeds_the_model_is_its_input(line):
    report = count(LENET + "\nnet = Net()\n" + line + "\n")
    assert report.layer("fc1").output_shape == (120,) and not report.notes


def test_what_forward_does_that_is_not_followed_leaves_the_counts_and_says_why():
    code = LENET.replace("x = x.view(x.size(0), -1)", "x = torch.stft(x, 4)") + "\nnet = Net()\n"
    report = count(code, input_shape=(1, 28, 28))
    assert report.total_params == LENET_PARAMS
    assert "forward() is not followed" in report.notes[0] and "torch.stft" in report.notes[0]


def test_a_module_called_twice_shares_its_weights_and_an_unused_one_still_counts():
    report = count("""
        import torch
        import torch.nn as nn
        class Siamese(nn.Module):
            def __init__(self):
                super().__init__()
                self.encode = nn.Linear(10, 4)
                self.spare = nn.Linear(4, 4)      # never called: PyTorch still counts it
                self.scale = nn.Parameter(torch.ones(4))
            def forward(self, a, b):
                return (self.encode(a) - self.encode(b)) * self.scale
        model = Siamese()
    """, input_shape=[(10,), (10,)])
    assert report.total_params == (10 * 4 + 4) + (4 * 4 + 4) + 4
    assert report.layer("encode (call 2)").params == 0
    assert "not called in forward" in report.layer("spare").note


def test_weight_tying_counts_the_tensor_once():
    report = count("""
        import torch.nn as nn
        class LM(nn.Module):
            def __init__(self, vocab=100, dim=16):
                super().__init__()
                self.embed = nn.Embedding(vocab, dim)
                self.head = nn.Linear(dim, vocab, bias=False)
                self.head.weight = self.embed.weight
            def forward(self, ids):
                return self.head(self.embed(ids))
        model = LM()
    """, input_shape=(12,), integer_input=True)
    assert report.total_params == 100 * 16
    assert report.layer("head").params == 0 and report.layer("head").macs == 12 * 16 * 100


def test_freezing_through_requires_grad():
    report = count("""
        import torch.nn as nn
        model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
        model[0].requires_grad_(False)
    """)
    assert (report.trainable_params, report.non_trainable_params) == (8 * 2 + 2, 4 * 8 + 8)


# ---- Keras 2 code, read as Keras 2 built it -----------------------------------------------


def test_keras2_input_length_and_average_pooling_default_are_keras2s_and_say_so():
    report = count("""
        from tensorflow.keras.models import Sequential
        from tensorflow.keras.layers import Embedding, Flatten, Dense, Reshape, AveragePooling2D
        model = Sequential()
        model.add(Embedding(1000, 8, input_length=16))
        model.add(Reshape((4, 4, 8)))
        model.add(AveragePooling2D())
        model.add(Flatten())
        model.add(Dense(1))
    """)
    assert report.total_params == 1000 * 8 + (2 * 2 * 8 + 1)
    assert "Keras 2" in report.layer("embedding").note
    assert report.layer("average_pooling2d").output_shape == (2, 2, 8)
    assert "Keras 2's default" in report.layer("average_pooling2d").note


# ---- what the code does not determine -----------------------------------------------------


def test_a_name_from_another_cell_is_refused_with_its_remedy_and_set_gives_it():
    code = """
        import keras
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(num_classes)])
    """
    message = error(code)
    assert "'num_classes' is not defined in the code" in message and "--set num_classes=" in message
    assert message.startswith("line 3, column ")
    assert count(code, values={"num_classes": 3}).total_params == 8 * 3 + 3


def test_data_dependent_shapes_take_the_given_input():
    code = """
        import numpy as np
        import keras
        x_train = np.loadtxt("train.tsv")
        num_classes = len(np.unique(x_train[:, 0]))
        def make_model(input_shape):
            inputs = keras.Input(input_shape)
            return keras.Model(inputs, keras.layers.Dense(num_classes)(keras.layers.Flatten()(inputs)))
        model = make_model(input_shape=x_train.shape[1:])
    """
    assert "numpy.loadtxt(...) is not read" in error(code)
    report = count(code, input_shape=(50, 2), values={"num_classes": 4})
    assert report.total_params == 100 * 4 + 4


def test_a_branch_on_an_unknown_value_is_not_guessed():
    code = """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                if use_norm:
                    self.norm = nn.LayerNorm(8)
                self.fc = nn.Linear(8, 2)
        model = Net()
    """
    message = error(code)
    assert "norm" in message and "use_norm" in message
    assert count(code, values={"use_norm": True}).total_params == 16 + 18
    assert count(code, values={"use_norm": False}).total_params == 18


def test_a_dotted_value_sets_an_attribute():
    code = "import torch.nn as nn\nmodel = nn.Embedding(lang.n_words, 8)\n"
    assert count(code, values={"lang.n_words": 50}).total_params == 50 * 8


# ---- which model ---------------------------------------------------------------------------


CLASSES = textwrap.dedent("""
    import torch.nn as nn
    class Small(nn.Module):
        def __init__(self, n=4):
            super().__init__()
            self.fc = nn.Linear(n, n)
    class Big(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = nn.Linear(n, 2 * n)
""")


def test_the_model_is_the_last_one_built_or_the_one_named():
    assert count(CLASSES + "a = Small()\nb = Small(8)\n").total_params == 8 * 8 + 8
    assert count(CLASSES + "a = Small()\nb = Small(8)\n", model="a").total_params == 4 * 4 + 4
    loss = "class Loss(nn.Module):\n    def forward(self, a, b):\n        return ((a - b) ** 2).mean()\n"
    assert count(CLASSES + loss + "a = Small()\ncriterion = Loss()\n").total_params == 4 * 4 + 4
    assert count(CLASSES, model="Big(3)").total_params == 3 * 6 + 6
    message = error(CLASSES)
    assert "Big needs arguments" in message and "--model 'Big(...)'" in message


RECURRENT = """
    import torch
    import torch.nn as nn
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(1000, 32)
            self.gru = nn.GRU(32, 64, num_layers=2, batch_first=True)
            self.lstm = nn.LSTM(64, 16, num_layers=2, batch_first=True, proj_size=8)
            self.bi = nn.LSTM(8, 8, batch_first=True, bidirectional=True)
            self.cell = nn.LSTMCell(8, 8)
            self.pool = nn.MaxPool1d(2, return_indices=True)
            self.fc = nn.Linear(64 + 8 + 16 + 2 * 8 + 2 * 8, 2)
        def forward(self, x):
            out, h = self.gru(self.emb(x))
            out2, (h2, c2) = self.lstm(out)
            _, (h3, _) = self.bi(out2)
            a, b = self.cell(h2[-1])
            p, idx = self.pool(out2)
            z = torch.cat([h[-1], h2[-1], c2[0], h2.permute(1, 0, 2).reshape(x.size(0), -1),
                           torch.cat((h3[-2], h3[-1]), dim=1)], dim=1)
            return self.fc(z), a + b, p
    net = Net()
"""


def test_a_tensor_made_without_a_batch_broadcasts_over_it():
    report = count("""
        import torch
        import torch.nn as nn
        class Embeddings(nn.Module):
            def __init__(self):
                super().__init__()
                self.word = nn.Embedding(100, 8)
                self.position = nn.Embedding(16, 8)
                self.register_buffer("position_ids", torch.arange(16).expand((1, -1)), persistent=False)
            def forward(self, ids):
                return self.word(ids) + self.position(self.position_ids[:, :ids.size(1)])
        net = Embeddings()
    """, input_shape=(12,), integer_input=True)
    rows = {r.name: r for r in report.layers}
    assert rows["position"].output_shape == (1, 12, 8)  # (1, T, d): the position ids have no batch
    assert rows["add"].output_shape == (12, 8)  # + (B, T, d): the first axis of one broadcasts over the batch
    assert report.total_params == 100 * 8 + 16 * 8 and report.total_buffers == 16


def test_drop_path_rates_from_linspace_and_a_module_that_returns_its_input():
    report = count("""
        import torch
        import torch.nn as nn
        class DropPath(nn.Module):  # as timm writes it
            def __init__(self, p=0.):
                super().__init__()
                self.p = p
            def forward(self, x):
                if self.p == 0. or not self.training:
                    return x
                keep = 1 - self.p
                return x * x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep) / keep
        class Block(nn.Module):
            def __init__(self, dim, dp):
                super().__init__()
                self.fc = nn.Linear(dim, dim)
                self.drop_path = DropPath(dp) if dp > 0. else nn.Identity()
            def forward(self, x):
                return x + self.drop_path(self.fc(x))
        class Net(nn.Module):
            def __init__(self, depth=3, dim=16, drop_path_rate=0.1):
                super().__init__()
                dpr = [x.item() for x in torch.linspace(0, drop_path_rate, depth)]
                self.blocks = nn.Sequential(*[Block(dim, dpr[i]) for i in range(depth)])
                self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1))
            def forward(self, x):
                return self.blocks(x)
        net = Net()
    """, input_shape=(16,))
    rows = {r.name: r for r in report.layers}
    assert rows["blocks.0.drop_path"].type == "Identity"  # a rate of 0: nn.Identity
    assert rows["blocks.2.drop_path"].type == "DropPath" and "returns its input" in rows["blocks.2.drop_path"].note
    assert report.total_params == 3 * (16 * 16 + 16) and report.total_buffers == 3


def test_a_layer_without_tensors_made_in_forward_or_held_by_the_class_is_a_row():
    report = count("""
        import torch.nn as nn
        class Net(nn.Module):
            act = nn.ReLU()
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 4, 3)
            def forward(self, x):
                return nn.Flatten()(self.act(self.conv(x)))
        net = Net()
    """, input_shape=(3, 8, 8))
    assert [(r.type, r.output_shape) for r in report.layers[2:]] == [("ReLU", (4, 6, 6)), ("Flatten", (4 * 6 * 6,))]
    made_in_forward = count("""
        import torch.nn as nn
        class Net(nn.Module):
            def forward(self, x):
                return nn.Linear(8, 2)(x)
        net = Net()
    """, input_shape=(8,))
    assert made_in_forward.total_params == 0  # as PyTorch counts it: not a submodule
    assert "PyTorch would not count its parameters" in made_in_forward.notes[0]


def test_recurrent_states_cells_and_pooling_indices_are_followed():
    torch = pytest.importorskip("torch")
    namespace: dict = {}
    exec(textwrap.dedent(RECURRENT), namespace)  # test code: PyTorch is the oracle for the shapes
    outputs = namespace["net"](torch.zeros(3, 12, dtype=torch.long))
    report = count(RECURRENT, input_shape=(12,), integer_input=True)
    assert not report.notes
    assert report.total_params == sum(p.numel() for p in namespace["net"].parameters())
    rows = {r.name: r.output_shape for r in report.layers}
    assert (rows["fc"], rows["cell"], rows["pool"]) == tuple(tuple(t.shape[1:]) for t in outputs)


@pytest.mark.parametrize("shape, pad, mode", [
    ((16, 32, 32), (0, 0, 0, 0, 8, 8), "constant"),  # the ResNet paper's option A shortcut pads channels
    ((3, 10), (2, 3), "reflect"), ((2, 3, 5, 6), (1, 1, 2, 2, 3, 3), "replicate"), ((4, 9), (-2, 1), "constant"),
    ((2, 3, 4, 5, 6), (1, 1, 1, 1, 1, 1, 1, 1), "constant"), ((7,), (1, 2), "reflect"),
])
def test_f_pad_pads_the_last_axes_as_pytorch_does(shape, pad, mode):
    torch = pytest.importorskip("torch")
    expected = tuple(torch.nn.functional.pad(torch.zeros(2, *shape), pad, mode=mode).shape[1:])
    report = count(f"""
        import torch.nn as nn
        import torch.nn.functional as F
        class Shortcut(nn.Module):
            def forward(self, x):
                return F.pad(x, {pad}, mode={mode!r})
        net = Shortcut()
    """, input_shape=shape)
    assert not report.notes and report.layers[-1].output_shape == expected


@pytest.mark.parametrize("shape, pad, mode", [((3, 4, 5), (1, 2), "circular"), ((3, 4), (4, 4), "reflect"),
                                              ((5,), (1, 1, 1, 1), "constant")])
def test_f_pad_that_pytorch_refuses_or_that_pads_the_batch_is_not_followed(shape, pad, mode):
    report = count(f"""
        import torch.nn as nn
        import torch.nn.functional as F
        class Shortcut(nn.Module):
            def forward(self, x):
                return F.pad(x, {pad}, mode={mode!r})
        net = Shortcut()
    """, input_shape=shape)
    assert report.notes and "forward() is not followed: F.pad" in report.notes[0]


# ---- refused, never run, and bounded -----------------------------------------------------


def test_nothing_in_the_code_is_run(tmp_path):
    marker = tmp_path / "ran"
    report = count(f"""
        import os, subprocess
        import torch.nn as nn
        os.system("touch {marker}")
        subprocess.run(["touch", "{marker}"])
        open("{marker}", "w").write("x")
        exec("open('{marker}', 'w')")
        __import__("os").system("touch {marker}")
        model = nn.Linear(3, 2)
    """)
    assert report.total_params == 3 * 2 + 2
    assert not marker.exists()


@pytest.mark.parametrize("code, message", [
    ("while True:\n    x = 1\n", "more than 3,000,000 steps"),
    ("def f(n):\n    return f(n + 1)\nf(0)\n", "call each other more than 60 deep"),
    ("x = 2 ** 10 ** 10\n", "too large"),
    ("x = [0] * 10 ** 9\n", "too large"),
    ("x = 'ab' * 10 ** 8\n", "too large"),
    ("x = list(range(10 ** 9))\n", "more than 1,000,000 items"),
    ("x = f'{1:>999999999}'\n", "width or precision"),
    ("x = " + "(" * 300 + "1" + ")" * 300 + "\n", "Python"),
    ("def f(:\n", "is not valid Python"),
    ("async def f():\n    await g()\nf()\n", "not read"),
    # found by fuzzing the reader (fuzz/fuzz_code.py): each once a traceback
    ("import functools\nf = functools.partial()\n", "functools.partial() is missing arguments"),
    ("x = 1 in 'abc'\n", "TypeError: 'in <string>' requires string"),
    ("import torch\nx = torch.zeros(2, 3)[0, 1, 2]\n", "indexes 3 axes of a tensor of 2"),
    ("d = dict([(1, 2), e])\n", "builds no model"),
    ("n = len(range(10 ** 30))\n", "too long to count"),
    ("x = [i for i in range(10 ** 30)]\n", "more than 1,000,000 items"),
    ("x = sorted(range(10 ** 30))\n", "more than 1,000,000 items"),
    ("a = [[0] * 999999 for i in range(1000)]\n", "more than 3,000,000 steps"),
    ("import torch.nn as nn\nm = nn.Sequential({'a.b': nn.ReLU()})\n", "without '.', got 'a.b'"),
    ("import torch\nx = torch.arange(8)[:n, None]\nmodel = x\n", "builds no model"),
    ("import torch.nn as nn\nm = nn.ModuleDict({k * nn.ReLU() for k in 'ab'})\n", "not (key, module) pairs"),
    ("from keras import ops\nimport keras\nx = keras.Input((4, 2))\ny = ops.transpose(x, (p))\n"
     "model = keras.Model(x, y)\n", "'p' is not defined"),
    ("import torch.nn as nn\nInput(shape=SHAPE)\nm = nn.Linear(8, 2)\n", "'SHAPE' is not defined"),
    ("x = f'{1:{width}}'\nmodel = x\n", "builds no model"),  # an unknown format spec: a TypeError
    ("import torch.nn as nn\nfrom tensorflow import keras\nf = nn.Sequential(nn.Linear(4, 2), J(3))\n"
     "y = f(keras.Input((4,)))\n", "may hold parameters: 'J' is not defined"),
    # refused before the work, not after it (each once took minutes)
    ("import math\nn = math.comb(10 ** 7, 5 * 10 ** 6)\n", "comb(10000000, 5000000) is over 256 bits"),
    ("import math\nn = math.factorial(10 ** 6)\n", "1000000! is far over 256 bits"),
    ("import math\nn = math.prod([2 ** 255 - 1] * 300000)\n", "the result passes 256 bits"),
    ("import torch.nn as nn\nm = nn.Sequential(*[nn.Linear(8, 8) for _ in range(200000)])\n",
     "more than 100,000 layers and models"),
    ("import torch.nn as nn\nm = nn.Sequential(nn.Linear(2, 2)) * 10 ** 7\n", "too large"),
])
def test_work_is_bounded_and_bad_code_gets_one_message(code, message):
    assert message in error(code)


def test_an_unknown_layer_is_refused_with_the_way_out():
    message = error("import torch.nn as nn\nmodel = nn.Sequential(nn.Bilinear(2, 3, 4))\n")
    assert "nn.Bilinear has no rule" in message and "FILE.py:NAME" in message and message.startswith("line 2")


# ---- the command line -----------------------------------------------------------------------


def test_the_cli_reads_a_python_file_with_input_model_and_set(tmp_path):
    path = tmp_path / "net.py"
    path.write_text(CLASSES + LENET)
    done = run_cli("count", str(path), "--model", "Net()", "--input", "1x28x28", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert f'"total_params": {LENET_PARAMS}' in done.stdout
    done = run_cli("count", str(path), "--model", "Big(n)", "--set", "n=5")
    assert done.returncode == 0 and "Total params: 60" in done.stdout
    done = run_cli("count", str(path), "--model", "Big(n)")
    assert done.returncode == 2 and "--set n=VALUE" in done.stderr and "Traceback" not in done.stderr


def test_the_cli_reads_code_from_standard_input():
    done = run_cli("count", "-", "--input", "1x28x28", stdin=LENET + "\nnet = Net()\n")
    assert done.returncode == 0, done.stderr
    assert f"Total params: {LENET_PARAMS:,}" in done.stdout


@pytest.mark.parametrize("key, message", [
    ("hiden", "'hiden' is not a name the code's top level sets or leaves to you; did you mean 'hidden'?"),
    ("Net", "'Net' is a function, class or import of the code, not a value"),
    ("nn", "'nn' is a function, class or import of the code, not a value"),
])
def test_a_value_for_a_name_the_code_does_not_read_is_refused(key, message):
    code = "import torch.nn as nn\nhidden = 8\nclass Net(nn.Module):\n    pass\nmodel = nn.Linear(4, hidden)\n"
    assert learnable.count(code, values={"hidden": 3}).total_params == 4 * 3 + 3
    with pytest.raises(learnable.LearnableError, match=re.escape(message)):
        learnable.count(code, values={key: 3})


def test_a_sweep_of_code_changes_a_name_its_top_level_sets():
    code = "import torch.nn as nn\nhidden = 8\nmodel = nn.Sequential(nn.Linear(4, hidden), nn.Linear(hidden, 2))\n"
    totals = [v.report.total_params for v in learnable.sweep(code, {"hidden": [8, 16]})]
    assert totals == [(4 * 8 + 8) + (8 * 2 + 2), (4 * 16 + 16) + (16 * 2 + 2)]
    with pytest.raises(learnable.LearnableError, match="'hiden' is not a name .*did you mean 'hidden'"):
        list(learnable.sweep(code, {"hiden": [8]}))
