"""Two reports of one network side by side: the Keras and the PyTorch convention.

Rows are matched by layer name (both come from the same graph). A row differs when the
conventions count its parameters, trainable split or buffers differently; the reason is
the note the layer's rule gives in either convention; a note is shown even where the counts
agree (a layer one framework lacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .report import SCHEMA_VERSION, LayerRow, Report


@dataclass(frozen=True, slots=True)
class RowPair:
    keras: LayerRow
    pytorch: LayerRow

    @property
    def differs(self) -> bool:
        def counts(row: LayerRow) -> tuple[int, int, int]:
            return (row.params, row.non_trainable, row.buffers)

        return counts(self.keras) != counts(self.pytorch)

    @property
    def note(self) -> str:
        """Why the conventions differ here, or what one of them lacks (a note of either)."""
        notes = [n for n in (self.keras.note, self.pytorch.note) if n]
        return notes[0] if len(set(notes)) == 1 else "; ".join(notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.keras.name, "type": self.keras.type, "output_shape": list(self.keras.output_shape),
            "keras_params": self.keras.params, "keras_non_trainable": self.keras.non_trainable,
            "pytorch_params": self.pytorch.params, "pytorch_buffers": self.pytorch.buffers,
            "differs": self.differs, "note": self.note,
        }


@dataclass(frozen=True)
class Comparison:
    keras: Report
    pytorch: Report

    @property
    def name(self) -> str | None:
        return self.keras.name

    @property
    def rows(self) -> tuple[RowPair, ...]:
        by_name = {row.name: row for row in self.pytorch.layers}
        return tuple(RowPair(row, by_name[row.name]) for row in self.keras.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "convention": "both",
            "layers": [pair.to_dict() for pair in self.rows],
            "keras": self.keras.to_dict(),
            "pytorch": self.pytorch.to_dict(),
        }
