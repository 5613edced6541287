"""Worked answers in the seeds' style, printed from the rules' own expressions.

``((3 × 3 × 32) + 1) × 64 = 18,496`` is the rule's ``3×3×32×64 + 64`` with the output
count taken out as a factor: the factored form is built from the very dimension
expressions of the layer's weights and checked to have the same value, so the worked
answer cannot drift from the count. Shapes read the rule's shape notes
(``height, width: 28 − 3 + 1 = 26``); a size that took no arithmetic under 'same' padding
is "zero padding keeps 20 × 20", as the first seed says it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..expr import Difference, Division, Expr, Num, Product, Sum, num, product, total
from ..rules._base import Inference, Weight

_BRACKETS = {"exact": ("(", ")"), "floor": ("⌊", "⌋"), "ceil": ("⌈", "⌉")}


def seed_text(expr: Expr) -> str:
    """An expression as the seeds write it: spaced ``×``, a product inside a sum bracketed."""
    if isinstance(expr, Num):
        return f"{expr.value:,}"
    if isinstance(expr, Product):
        return " × ".join(f"({seed_text(f)})" if isinstance(f, Sum | Difference) else seed_text(f)
                          for f in expr.factors)
    if isinstance(expr, Sum):
        return " + ".join(f"({seed_text(t)})" if isinstance(t, Product) and len(expr.terms) > 1 else seed_text(t)
                          for t in expr.terms)
    if isinstance(expr, Difference):
        right = f"({seed_text(expr.right)})" if isinstance(expr.right, Sum | Difference) else seed_text(expr.right)
        return f"{seed_text(expr.left)} − {right}"
    if isinstance(expr, Division):
        left, right = _BRACKETS[expr.rounding]
        parts = (f"({seed_text(e)})" if isinstance(e, Sum | Difference) else seed_text(e)
                 for e in (expr.numerator, expr.denominator))
        return left + "/".join(parts) + right
    return expr.render()


def seed_equation(expr: Expr) -> str:
    return seed_text(expr) if isinstance(expr, Num) else f"{seed_text(expr)} = {expr.value:,}"


def factored(weights: Sequence[Weight]) -> Expr | None:
    """``((k×k×C_in) + 1) × filters``: the weights' sum with their shared output size taken
    out, where every weight ends (Keras) or starts (PyTorch) with the same size."""
    if len(weights) < 2:
        return None
    for pick, rest in ((lambda d: d[-1], lambda d: d[:-1]), (lambda d: d[0], lambda d: d[1:])):
        if all(w.dims for w in weights) and len({pick(w.dims).value for w in weights}) == 1:
            shared = pick(weights[0].dims)
            form = product(total(*(product(*rest(w.dims)) for w in weights)), shared)
            if form.value == sum(w.count for w in weights):
                return form
    return None


def params_steps(inference: Inference) -> list[tuple[str, Expr]]:
    """(label, expression) for each parameter tensor, then the layer's count."""
    weights = [w for w in inference.weights if not w.buffer]
    steps = [(w.name, w.expr) for w in weights]
    whole = factored(weights) or inference.params
    return [*steps, ("params", whole)]


def params_answer(inference: Inference, layer: str, type_name: str) -> list[str]:
    steps = params_steps(inference)
    if not inference.weights:
        return [f"{layer} ({type_name}) has no weights: 0 parameters."]
    lines = [f"{label}: {seed_equation(expr)}" for label, expr in steps[:-1]] if len(steps) > 2 else []
    lines.append(f"{layer}: {seed_equation(steps[-1][1])}")
    buffers = [w for w in inference.weights if w.buffer]
    if buffers:
        names = ", ".join(w.name for w in buffers[:-1]) + (" and " if len(buffers) > 1 else "") + buffers[-1].name
        lines.append(f"{names} ({seed_equation(inference.buffers)}) are buffers in PyTorch, not parameters.")
    frozen = [w for w in inference.weights if not w.buffer and not w.trainable]
    if frozen:
        lines.append(f"{' and '.join(w.name for w in frozen)} count in Keras as non-trainable parameters.")
    return lines


def shape_text(shape) -> str:
    """``20 × 20 × 3`` as the seeds write a shape; one axis as the table prints it, ``(512,)``."""
    return f"({shape[0]},)" if len(shape) == 1 else " × ".join(str(d) for d in shape)


def shape_answer(inference: Inference, args: dict, shape: tuple) -> list[str]:
    if args.get("padding") == "same" and args.get("strides") in (None, 1, (1, 1)) and len(shape) == 3:
        return [f"zero padding keeps {shape[0]} × {shape[1]}", f"output shape: {shape_text(shape)}"]
    groups: dict[str, list[str]] = {}  # axes computed alike, named together
    for note in inference.shape_notes:
        groups.setdefault(seed_equation(note.expr), []).append(note.label)
    lines = [f"{', '.join(labels)}: {text}" if labels[0] else text for text, labels in groups.items()]
    return [*lines, f"output shape: {shape_text(shape)}"]


def macs_answer(inference: Inference) -> list[str]:
    return [f"MACs: {seed_equation(inference.macs)}"]


def total_answer(params: Sequence[tuple[str, int]]) -> tuple[Expr, list[str]]:
    terms = [num(p) for _, p in params if p]
    expr = total(*terms)
    named = ", ".join(f"{name} {p:,}" for name, p in params if p)
    return expr, [named, f"total: {seed_equation(expr)}"]
