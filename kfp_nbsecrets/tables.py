"""A small table display object: text/plain and escaped text/html, nothing else."""

from __future__ import annotations

import html
from collections.abc import Sequence


class Table:
    """Rows of strings under a title; displays as aligned text or an HTML table."""

    def __init__(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
                 empty: str = "nothing to show") -> None:
        self.title = title
        self.columns = tuple(columns)
        self.rows = [tuple("" if cell is None else str(cell) for cell in row) for row in rows]
        self.empty = empty

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        if not self.rows:
            return f"{self.title}: {self.empty}"
        widths = [max(len(row[i]) for row in [self.columns, *self.rows]) for i in range(len(self.columns))]
        lines = [self.title, *("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                               for row in [self.columns, *self.rows])]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        if not self.rows:
            return f"<p><b>{esc(self.title)}</b>: {esc(self.empty)}</p>"
        head = "".join(f"<th>{esc(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in self.rows)
        return (f"<table class='kfp-nbsecrets-table'><caption>{esc(self.title)}</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}
