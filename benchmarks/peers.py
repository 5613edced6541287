"""What each tool runs, as Python source: the same text is timed in this process (after its
set-up) and as a fresh ``python -c`` (set-up and run together, as a user would type it).

Each run leaves ``params`` (and ``macs`` where the tool counts them) in its namespace, so
the report can show that every tool measured the same network.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from .networks import LEARNABLE_SOURCES, TORCH_INPUTS

NETWORKS = ("seed", "resnet50", "encoder", "sweep")
LEARNABLE = "learnable: count + table --macs --explain"
SWEEP = "learnable: sweep + table of the variants"
COUNT_ONLY = "learnable: count only (no rendering)"
IMPORTER = "learnable: PyTorch importer + table --macs --explain"
TORCHINFO = "torchinfo: summary(model, input_size)"
TORCHINFO_1 = "torchinfo: the same, torch.set_num_threads(1)"


@dataclass(frozen=True)
class Case:
    tool: str  # the distribution that must be installed, e.g. "torchinfo"
    label: str  # as the tables show it
    network: str
    setup: str  # imports and, for "the built model" cases, the model
    run: str  # what is timed
    fresh: bool = True  # False where a fresh process would repeat another case's work

    @property
    def script(self) -> str:
        return f"{self.setup}\n{self.run}"


def ours(network: str) -> str:
    """The label of learnable's case that the others are compared with on ``network``."""
    return SWEEP if network == "sweep" else LEARNABLE


def learnable_case(network: str) -> Case:
    """The full report: what `learnable count SOURCE --macs --explain` prints; for the sweep,
    what `learnable sweep` prints."""
    if network == "sweep":
        return _learnable_sweep(SWEEP, "text = render_sweep(list(SWEEP), variants)\n")
    setup = ("import learnable\nfrom learnable.render import render\nfrom learnable.render._columns import Show\n"
             f"source = {LEARNABLE_SOURCES[network]!r}")
    run = ("report = learnable.count(source)\ntext = render(report, 'table', explain=True, show=Show(macs=True))\n"
           "params, macs = report.total_params, report.total_macs")
    return Case("learnable", LEARNABLE, network, setup, run)


def count_only_case(network: str) -> Case:
    """The count without any rendering: the difference to :func:`learnable_case` is the table's."""
    if network == "sweep":
        return _learnable_sweep(COUNT_ONLY, "")
    setup = f"import learnable\nsource = {LEARNABLE_SOURCES[network]!r}"
    return Case("learnable", COUNT_ONLY, network, setup, "report = learnable.count(source)\n"
                "params, macs = report.total_params, report.total_macs")


def importer_case() -> Case:
    """learnable's PyTorch importer on torchvision's ResNet-50 module, then the same full report."""
    setup = ("import learnable\nfrom learnable.render import render\nfrom learnable.render._columns import Show\n"
             "from benchmarks.networks import torch_resnet50\nmodel = torch_resnet50()")
    run = ("report = learnable.count(model, input_shape=(3, 224, 224))\n"
           "text = render(report, 'table', explain=True, show=Show(macs=True))\n"
           "params, macs = report.total_params, report.total_macs")
    return Case("learnable", IMPORTER, "resnet50", setup, run)


def _learnable_sweep(label: str, render: str) -> Case:
    setup = ("import learnable\nfrom learnable.render.sweep import render_sweep\n"
             f"from benchmarks.networks import SWEEP\nsource = {LEARNABLE_SOURCES['sweep']!r}")
    run = (f"variants = list(learnable.sweep(source, SWEEP))\n{render}"
           "params = sum(v.report.total_params for v in variants)\nmacs = sum(v.report.total_macs for v in variants)")
    return Case("learnable", label, "sweep", setup, run)


def _sweep_peers() -> list[Case]:
    """What a sweep takes without learnable: build each variant, then count it."""
    loop = "from itertools import product\nfrom benchmarks.networks import SWEEP, {builder}"
    torchinfo = Case("torchinfo", "torchinfo: build + summary(model, input_size) per variant", "sweep",
                     "from torchinfo import summary\n" + loop.format(builder="torch_seed"),
                     "params = macs = 0\nfor filters, units in product(*SWEEP.values()):\n"
                     f"    stats = summary(torch_seed(filters, units), input_size=(1, *{TORCH_INPUTS['sweep']!r}))\n"
                     "    params, macs = params + stats.total_params, macs + stats.total_mult_adds")
    keras = Case("keras", "Keras: build + model.count_params() per variant", "sweep",
                 "import keras\n" + loop.format(builder="keras_seed"),
                 "params = 0\nfor filters, units in product(*SWEEP.values()):\n"
                 "    keras.backend.clear_session()\n    params += keras_seed(filters, units).count_params()")
    return [torchinfo, keras]


def peer_cases(network: str) -> list[Case]:
    if network == "sweep":
        return _sweep_peers()
    one_thread = [_torchinfo_one_thread()] if network == "resnet50" else []
    return [_torchinfo(network), *one_thread, _keras(network, built=True), _keras(network, built=False),
            _fvcore(network), _ptflops(network, "pytorch"), _ptflops(network, "aten")]


def _torch_model(network: str) -> str:
    return f"from benchmarks.networks import torch_{network}\nmodel = torch_{network}()"


def _torchinfo(network: str) -> Case:
    setup = f"from torchinfo import summary\n{_torch_model(network)}"
    run = (f"stats = summary(model, input_size=(1, *{TORCH_INPUTS[network]!r}))\n"
           "params, macs = stats.total_params, stats.total_mult_adds")
    return Case("torchinfo", TORCHINFO, network, setup, run)


def _torchinfo_one_thread() -> Case:
    """torchinfo on ResNet-50 with torch on one thread: on a shared machine, torch's threads
    wait for each other whenever another process holds a core; one thread does not."""
    case = _torchinfo("resnet50")
    run = f"threads = torch.get_num_threads()\ntorch.set_num_threads(1)\n{case.run}\ntorch.set_num_threads(threads)"
    return Case("torchinfo", TORCHINFO_1, "resnet50", f"import torch\n{case.setup}", run)


def _keras(network: str, built: bool) -> Case:
    build = f"keras.backend.clear_session()\nmodel = keras_{network}()"
    setup = f"import keras\nfrom benchmarks.networks import keras_{network}" + (f"\n{build}" if built else "")
    run = ("" if built else f"{build}\n") + "model.summary()\nparams = model.count_params()"
    label = "Keras: model.summary() (built model)" if built else "Keras: build + model.summary()"
    return Case("keras", label, network, setup, run, fresh=not built)  # fresh, both build the model


def _fvcore(network: str) -> Case:
    setup = (f"import torch\nfrom fvcore.nn import FlopCountAnalysis\n{_torch_model(network)}\n"
             f"x = torch.randn(1, *{TORCH_INPUTS[network]!r})")
    run = ("flops = FlopCountAnalysis(model, x)\nflops.unsupported_ops_warnings(False)\n"
           "flops.uncalled_modules_warnings(False)\nmacs = flops.total()")
    return Case("fvcore", "fvcore: FlopCountAnalysis(model, x).total()", network, setup, run)


def _ptflops(network: str, backend: str) -> Case:
    setup = f"import sys\nfrom ptflops import get_model_complexity_info\n{_torch_model(network)}"
    run = (f"macs, params = get_model_complexity_info(model, {TORCH_INPUTS[network]!r}, as_strings=False, "
           f"print_per_layer_stat=True, ost=sys.stdout, backend={backend!r})")
    return Case("ptflops", f"ptflops: get_model_complexity_info(backend='{backend}')", network, setup, run)


def installed(tool: str) -> bool:
    return importlib.util.find_spec(tool) is not None
