"""Fresh names for the rows a reader makes: ``conv`` then ``conv (2)``, ``conv (3)``, ...

One helper for every reader (pasted code, Keras models and files, ONNX): the number tried
next for each name is kept, so a layer called 100,000 times is named in linear time, not
by trying 1, 2, 3, ... again at each call."""

from __future__ import annotations


class Names:
    def __init__(self) -> None:
        self.taken: set[str] = set()
        self._next: dict[tuple[str, str], int] = {}

    def unique(self, wanted: str, again: str = " ({n})") -> str:
        """``wanted``, or with ``again`` (``" (2)"``, ``"_2"``; ``{m}`` is n − 1) when it is taken."""
        name, n = wanted, self._next.get((wanted, again), 1)
        if n > 1:
            name = wanted + again.format(n=n, m=n - 1)
        while name in self.taken:
            n += 1
            name = wanted + again.format(n=n, m=n - 1)
        self._next[wanted, again] = n
        self.taken.add(name)
        return name
