"""Writes the example notebooks from the cell lists in ``notebooks/src/*.py`` and executes them.

    .venv/bin/python notebooks/build.py                 # every notebook
    .venv/bin/python notebooks/build.py 01-quickstart   # one notebook

A source file is plain Python split into cells by ``# %%`` (code) and ``# %% [markdown]`` lines
(the markdown body is written as ``# `` comment lines). Each notebook is executed in this
directory (as nbval runs it) and written with its outputs, so that the committed outputs are
exactly what ``pytest --nbval`` compares against.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
MARKER = re.compile(r"^# %%(?: \[(markdown)\])?(?: tags=\[([^\]]*)\])?\s*$")


def cells_of(text: str) -> list:
    cells, kind, tags, lines = [], None, [], []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                             for line in body.splitlines())
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.splitlines():
        match = MARKER.match(line)
        if match:
            flush()
            kind = match.group(1) or "code"
            tags = [t.strip().strip("'\"") for t in (match.group(2) or "").split(",") if t.strip()]
            lines = []
        else:
            lines.append(line)
    flush()
    return cells


def build(name: str, execute: bool = True) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells_of((SRC / f"{name}.py").read_text())
    notebook.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    })
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{name[:2]}-{index:02d}"
    if execute:
        NotebookClient(notebook, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}}).execute()
        # keep the committed file stable: no execution timestamps, the language_info the kernel reports
        for cell in notebook.cells:
            cell.metadata.pop("execution", None)
        notebook.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    path = HERE / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem for p in SRC.glob("*.py"))
    for name in names:
        print(f"built {build(name).relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
