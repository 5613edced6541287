"""Coverage-guided fuzz target (atheris) for audits: claims text, as a paper, a README or a
summary prints it, audited against a few networks and rendered in every format.

    python fuzz/fuzz_audit.py fuzz/corpus-audit -max_total_time=600 -timeout=20

Seeds: the example claims and paper tables, and the summaries in tests/test_audit_printed.py
(``python fuzz/corpus.py fuzz/corpus-audit --audit``). A one-line LearnableError is the right
answer to bad input; anything else is a crash, written to ``crash-*``.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["learnable"]):
    import learnable
    from learnable.auditing import audit
    from learnable.errors import LearnableError
    from learnable.render.audit import RENDERERS

REPORTS = [learnable.count(source) for source in
           ("Input(28, 28, 1) | Conv2D(32, 3) | MaxPooling2D(2) | Flatten() | Dense(10)", "zoo:resnet50",
            "zoo:vgg16", "zoo:resnet18")]
COLUMNS = (None, "D", "Params", "50-layer")


def audit_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    report = REPORTS[fdp.ConsumeIntInRange(0, len(REPORTS) - 1)]
    column = COLUMNS[fdp.ConsumeIntInRange(0, len(COLUMNS) - 1)]
    text = fdp.ConsumeUnicode(len(data))  # lone surrogates too: a claim's name is quoted in the output
    try:
        result = audit(report, text, "claims.md", column)
    except LearnableError as err:
        assert "\n" not in str(err), str(err)
        str(err).encode("utf-8")
        return
    for render in RENDERERS.values():
        render(result).encode("utf-8")  # as the CLI writes it


def main(argv: list[str]) -> None:
    atheris.Setup(argv, audit_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
