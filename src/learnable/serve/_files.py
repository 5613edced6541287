"""The packaged files the server sends: the page (``static/``) and the example specs.

They come from a fixed table, never from a path a request names, so no request can read
anything else on the machine.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# URL path → (file in static/, content type)
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/view.js": ("view.js", "text/javascript; charset=utf-8"),
    "/sizing.js": ("sizing.js", "text/javascript; charset=utf-8"),
    "/drop.js": ("drop.js", "text/javascript; charset=utf-8"),
    "/units.js": ("units.js", "text/javascript; charset=utf-8"),
    "/chart.js": ("chart.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/editor.js": ("editor.js", "text/javascript; charset=utf-8"),
    "/linking.js": ("linking.js", "text/javascript; charset=utf-8"),
    "/editor.css": ("editor.css", "text/css; charset=utf-8"),
    # CodeMirror 6, bundled from frontend/ (docs/serve.md): served from the package, no CDN
    "/vendor/codemirror.min.js": ("vendor/codemirror.min.js", "text/javascript; charset=utf-8"),
    "/vendor/codemirror.LICENSE.txt": ("vendor/codemirror.LICENSE.txt", "text/plain; charset=utf-8"),
    "/exercise.html": ("exercise.html", "text/html; charset=utf-8"),  # the exercise page (serve/_exercise.py)
    "/exercise.js": ("exercise.js", "text/javascript; charset=utf-8"),
    "/exercise.css": ("exercise.css", "text/css; charset=utf-8"),
}
EXAMPLE_SUFFIXES = (".yaml", ".yml", ".json", ".txt")


def static_file(path: str) -> tuple[bytes, str] | None:
    entry = STATIC.get(path)
    if entry is None:
        return None
    name, content_type = entry
    return (resources.files(__package__) / "static" / name).read_bytes(), content_type


def _examples_folder():
    """learnable/examples in a wheel (pyproject force-includes the repository's
    examples/); in a source checkout, examples/ beside src/."""
    packaged = resources.files("learnable") / "examples"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "examples"
    return checkout if checkout.is_dir() else None


def example_files() -> list[tuple[str, str]]:
    """(file name, text) of each example spec, by name; claims tables are not specs."""
    folder = _examples_folder()
    if folder is None:
        return []
    entries = [e for e in folder.iterdir() if e.name.endswith(EXAMPLE_SUFFIXES) and ".claims." not in e.name]
    return [(e.name, e.read_text(encoding="utf-8")) for e in sorted(entries, key=lambda e: e.name)]
