"""BENCHMARKS.md from one run's results."""

from __future__ import annotations

from collections.abc import Sequence

from .peers import NETWORKS, Case, count_only_case, importer_case, learnable_case, ours, peer_cases
from .scale import ScaleRow, slopes
from .startup import by_package, slowest_modules
from .suite import Measured, Results
from .targets import Target, median_of

TITLES = {"seed": "Seed CNN (examples/simple_cnn.yaml, 28×28×1)",
          "resnet50": "ResNet-50 (224×224×3)",
          "encoder": "Transformer encoder, 12 layers (BERT-base sizes: d_model 768, 12 heads, FFN 3,072, 128 tokens)",
          "sweep": "Sweep: 16 variants of the seed CNN (conv_2 filters 16–64 × fc_1 units 32–128; params and MACs "
                   "are the sums over the variants)"}
IN_PROCESS_INTRO = (
    "## In-process: the call alone, imports and model done\n\nMedian of the repeats after a first call (the first "
    "call is shown apart: lazy imports and caches). learnable's time is the full report: the count and the table with "
    "--explain and MACs, as `learnable count SOURCE --macs --explain` prints it; \"count only\" leaves out the "
    "rendering. Peers' printed output goes to a string, as to a pipe. \"×\": the row's median over learnable's full "
    "report.")
FRESH_INTRO = (
    "## Whole command: a fresh process, as a user types it\n\nWall time from start to exit (output to /dev/null), "
    "median of the repeats, and the peak resident memory. Peers run as `python -c` with their import, the model and "
    "the summary (scripts at the end). \"×\": the command's median over learnable's full report on the same network "
    "(`learnable count SOURCE --macs --explain`).")
VERDICT = {True: "**MET**", False: "**NOT MET**", None: "not measured"}


def render(results: Results, targets: Sequence[Target]) -> str:
    parts = [_header(results), _machine(results), _targets(targets), _ratios(results), _in_process(results.in_process),
             _fresh(results.fresh), _startup(results),
             _scale(results.scale), _profile(results), _notes(), _missing(results),
             _scripts(), _packages(results)]
    return "\n\n".join(part for part in parts if part).rstrip() + "\n"


def _header(results: Results) -> str:
    quick = "\n\n**A `--quick` run: fewer repeats, no 100,000-layer specs. Not the figures of record.**" * results.quick
    return (f"# Benchmarks\n\nlearnable against the tools people use now (torchinfo, Keras, fvcore, ptflops), on the "
            f"same networks, in one run on one machine ({results.started} to {results.finished} UTC). Written by "
            f"`benchmarks/run.py`; do not edit by hand. Reproduce (benchmarks/README.md):\n\n"
            f"```sh\n{results.command}\n```{quick}")


def _machine(results: Results) -> str:
    m = results.machine
    memory = f"{m['memory_gib']:.1f} GiB" if m["memory_gib"] else "unknown"
    key = {name: version for name, version in m["packages"].items()  # type: ignore[union-attr]
           if name.lower() in {"learnable", "torch", "keras", "torchinfo", "fvcore", "ptflops", "pyyaml", "rich",
                               "numpy"}}
    rows = [("learnable", m["commit"]), ("CPU", m["cpu"]), ("Cores", m["cores"]), ("RAM", memory), ("OS", m["os"]),
            ("Python", m["python"]),
            ("Packages", ", ".join(f"{n} {v}" for n, v in key.items()) + " (all of them at the end)"),
            ("Load average (1, 5, 15 min)", (f"{_load(results.load_before)} at the start, "
                                             f"{_load(results.load_after)} at the end"))]
    return ("## Machine\n\n" + _table(("", ""), rows) + "\n\nThe load average counts other work on the machine "
            "during the run: with more runnable processes than cores, every figure here is slower than on an idle "
            "machine, learnable's and the peers' alike (the ratios are from the same run).")


def _load(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _targets(targets: Sequence[Target]) -> str:
    rows = [(t.goal, t.measured, VERDICT[t.met]) for t in targets]
    met = sum(t.met is True for t in targets)
    return f"## Targets (issues 7 and 15)\n\n{met} of {len(targets)} met.\n\n" + _table(("Target", "Measured", ""), rows)


def _ratios(results: Results) -> str:
    """Peer's median over learnable's full report, per network, in process and as a command."""
    labels = [label for label in dict.fromkeys(row.label for row in results.in_process)
              if label not in {ours(network) for network in NETWORKS}]
    rows = [(label, *(_ratio_cell(results, network, label) for network in NETWORKS)) for label in labels]
    return ("## Ratios: how many times longer each takes than learnable's full report\n\nIn-process / whole command, "
            "same network, medians of this run (the tables below have the times). Under 1: faster than learnable.\n\n"
            + _table(("", *(TITLES[n].split(" (")[0] for n in NETWORKS)), rows))


def _ratio_cell(results: Results, network: str, label: str) -> str:
    command = next((r.label for r in results.fresh if r.network == network and _is_ours(r.command)), "")
    inside = _ratio(median_of(results.in_process, network, ours(network)),
                    median_of(results.in_process, network, label))
    fresh = _ratio(median_of(results.fresh, network, command), median_of(results.fresh, network, label))
    return "" if inside == fresh == "—" else f"{inside} / {fresh}"


def _ratio(mine: float | None, theirs: float | None) -> str:
    return "—" if mine is None or theirs is None else f"{theirs / mine:,.1f}×"


def _is_ours(command: str) -> bool:
    """learnable's own command on a network, which the others there are compared with."""
    return command.startswith(("learnable count", "learnable sweep"))


def _in_process(rows: Sequence[Measured]) -> str:
    text = [IN_PROCESS_INTRO]
    for network in NETWORKS:
        group = [row for row in rows if row.network == network]
        mine = median_of(group, network, ours(network))
        table = [_in_process_row(row, mine, ours(network)) for row in group]
        text.append(f"### {TITLES[network]}\n\n" + _table(
            ("Tool", "Median", "Min–max", "First call", "n", "Params", "MACs", "× learnable"), table))
    return "\n\n".join(text)


def _in_process_row(row: Measured, mine: float | None, label: str) -> tuple:
    if row.stats is None:
        return (row.label, f"— ({row.error})", "", "", "", "", "", "")
    s = row.stats
    ratio = "" if mine is None or row.label == label else f"{s.median / mine:,.1f}×"
    return (row.label, _seconds(s.median), f"{_seconds(s.spread[0])} – {_seconds(s.spread[1])}",
            _seconds(s.first or 0), len(s.times), _int(row.params), _int(row.macs), ratio)


def _fresh(rows: Sequence[Measured]) -> str:
    baselines = [r for r in rows if r.network is None]
    text = [FRESH_INTRO,
            "### Baselines and learnable\n\n" + _table(_FRESH_HEADERS, [_fresh_row(r, None) for r in baselines])]
    for network in NETWORKS:
        group = [r for r in rows if r.network == network]
        mine = next((r.stats.median for r in group if _is_ours(r.command) and r.stats), None)
        text.append(f"### {TITLES[network]}\n\n" + _table(_FRESH_HEADERS, [_fresh_row(r, mine) for r in group]))
    return "\n\n".join(text)


_FRESH_HEADERS = ("Command", "Median", "Min–max", "Peak RSS", "n", "× learnable")


def _fresh_row(row: Measured, mine: float | None) -> tuple:
    name = f"`{row.command}`" if _is_ours(row.command) or row.command.startswith("python -c ") else row.label
    if row.stats is None:
        return (name, f"— ({row.error})", "", "", "", "")
    s = row.stats
    ratio = "" if mine is None or _is_ours(row.command) else f"{s.median / mine:,.1f}×"
    return (name, _seconds(s.median), f"{_seconds(s.spread[0])} – {_seconds(s.spread[1])}",
            s.rss_text, len(s.times), ratio)


def _startup(results: Results) -> str:
    if not results.imports:
        return ""
    total = sum(own for _, own, _ in results.imports) / 1000
    seed = next((r.stats.median for r in results.fresh if r.command == "learnable count examples/simple_cnn.yaml"
                 and r.stats), None)
    whole = f" of the command's {seed * 1000:,.0f} ms (its median above)" if seed else ""
    packages = _table(("Package", "Own import time"),
                      [(f"`{n}`", f"{ms:,.1f} ms") for n, ms in by_package(results.imports)])
    modules = _table(("Module", "Own", "Cumulative"), [(f"`{n}`", f"{own:,.1f} ms", f"{cum:,.1f} ms")
                                                       for n, own, cum in slowest_modules(results.imports)])
    return (f"## Start-up: what `learnable count examples/simple_cnn.yaml` imports\n\nOne run under "
            f"`python -X importtime`: {len(results.imports)} modules, {total:,.0f} ms of imports{whole}; bare "
            f"`python -c pass` is in the baselines.\n\n{packages}\n\n{modules}")


def _scale(rows: Sequence[ScaleRow]) -> str:
    slope = slopes(rows)
    table = []
    for row in sorted(rows, key=lambda r: (r.kind, r.fmt, r.layers)):
        previous = [r for r in rows if (r.kind, r.fmt) == (row.kind, row.fmt) and r.layers < row.layers]
        step = slope[row.kind, row.fmt][len(previous) - 1] if previous else None
        s = row.stats
        table.append((row.kind, row.fmt, f"{row.layers:,}", f"{s.median:.3f} s",
                      f"{s.spread[0]:.3f} – {s.spread[1]:.3f}",
                      f"{s.median / row.layers * 1e6:,.1f} µs", "" if step is None else f"{step * 1e6:,.1f} µs",
                      s.rss_text, len(s.times)))
    return ("## Scale: synthetic specs of 1,000 to 100,000 layers\n\nA fresh `learnable count SPEC --format json > "
            "/dev/null` per spec. *sequential*: Dense(64), ReLU, Dense(64), ReLU, ... on a 64-vector; *branching*: "
            "residual blocks x ← Add(x, Dense(ReLU(Dense(x)))), 4 layers each (benchmarks/synthetic.py writes both "
            "as block YAML, one layer a line, and as JSON). \"Per layer\": the median over the layers, start-up "
            "included; \"slope\": seconds per added layer since the previous size: equal slopes are linear growth.\n\n"
            + _table(("Spec", "Format", "Layers", "Median", "Min–max", "Per layer", "Slope", "Peak RSS", "n"), table))


def _profile(results: Results) -> str:
    if not results.profile:
        return ""
    return (f"## Where the time goes: cProfile of the 100,000-layer {results.profiled}\n\nOne fresh "
            f"`python -m cProfile learnable count SPEC --format json` (cProfile slows it about twofold), top "
            f"functions by own time, then by cumulative time.\n\n```text\n{results.profile.strip()}\n```")


def _notes() -> str:
    return """## What each tool does, and what to read into the ratios

- **learnable** reads the spec and computes shapes, parameters and MACs with their arithmetic from formulas; no
  tensor is made. The PyTorch importer reads the module's structure and runs one forward pass on the meta device
  (no data), then the same rules.
- **torchinfo** `summary(model, input_size=...)` runs a real forward pass on a random input, with hooks on every
  module. Its mult-adds for the encoder (56,706,048) are each Linear's and LayerNorm's parameter count, once per
  example rather than per token, and 0 for the attention: a fraction of the ~11 billion the others count.
- **Keras** `model.summary()` prints the layers of an already built model (no compute counted); *build + summary*
  also constructs the model, which is what it takes to see a summary of an architecture from code.
- **fvcore** traces the model with the TorchScript tracer (a forward pass), then counts per traced op; its
  "flops" are MACs, with BatchNorm as 2 per value.
- **ptflops**, backend `pytorch`: module hooks and patched functionals during a forward pass; backend `aten`:
  a dispatch-level counter during a forward pass. Both print a per-layer table here (`print_per_layer_stat=True`).
- torch's forward passes (torchinfo, fvcore, ptflops, the Keras builds) run on as many OpenMP threads as there
  are cores, and its threads wait for each other: when other work holds one core, a forward pass can take ten
  times longer (with `torch.set_num_threads(1)` it does not). So torchinfo's ResNet-50 is also timed on one
  thread, and the targets against torchinfo take the faster of its two medians. learnable runs on one thread.
- Why the MAC totals differ between tools (biases, BatchNorm, pooling): docs/compute.md.
- In-process, learnable's spec cases run first, before any framework is imported into the benchmark's process; the
  importer and the peers after (a process holding torch's objects makes every later allocation-heavy call
  somewhat slower)."""


def _missing(results: Results) -> str:
    missing = sorted({row.error for row in [*results.in_process, *results.fresh]
                      if row.error and "not installed" in row.error})
    if not missing:
        return ""
    return "## Peers not measured\n\n" + "\n".join(f"- {m}: its rows say so; install it with the `bench` extra."
                                                  for m in missing)


def _scripts() -> str:
    cases: list[Case] = [*(c(n) for n in NETWORKS for c in (learnable_case, count_only_case)), importer_case()]
    cases += [case for n in NETWORKS for case in peer_cases(n)]
    blocks = [f"**{case.network}, {case.label}**\n\n```python\n{case.setup}\n# timed in-process:\n{case.run}\n```"
              for case in cases]
    return ("## The scripts\n\nIn-process, the set-up runs once and the lines after `# timed in-process` are timed; "
            "as a fresh process the whole script is `python -c`, run from the repository root (the models are in "
            "benchmarks/networks.py; Keras's built-model case is not run fresh: it is the build + summary one).\n\n"
            "<details><summary>"
            f"{len(cases)} scripts</summary>\n\n" + "\n\n".join(blocks) + "\n\n</details>")


def _packages(results: Results) -> str:
    packages = results.machine["packages"]
    rows = [(name, version) for name, version in packages.items()]  # type: ignore[union-attr]
    return ("## Every installed package\n\n<details><summary>" + f"{len(rows)} distributions</summary>\n\n"
            + _table(("Package", "Version"), rows) + "\n\n</details>")


def _seconds(value: float) -> str:
    return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"


def _int(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
