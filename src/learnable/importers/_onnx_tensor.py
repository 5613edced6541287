"""One ONNX initializer as the importer sees it: name, dims, element type."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Tensor:
    name: str
    dims: tuple[int, ...]
    dtype: int

    @property
    def size(self) -> int:
        return math.prod(self.dims)
