"""The one table renderer: every table the package shows (bindings, lint findings, secrets, keys, the
pre-run check, the preview) is a :class:`Table`, shown as aligned text or as an escaped HTML table."""

from __future__ import annotations

import html
from collections.abc import Sequence

#: Colours of a status / severity cell: JupyterLab's theme colours, with fallbacks for other front ends.
STATUS_COLOURS = {
    "error": "var(--jp-error-color1, #c62828)",
    "warning": "var(--jp-warn-color1, #e65100)",
    "ok": "var(--jp-success-color1, #2e7d32)",
}
_CELL = "text-align:left;vertical-align:top;padding:2px 8px"
# JupyterLab's rendered-HTML tables are centred, fixed-layout and right-aligned; pin the alignment, layout
# and the margin so the table reads the same in Lab (light and dark), Notebook 7, VS Code and nbconvert.
_TABLE = "margin-left:0;margin-right:auto;border-collapse:collapse;table-layout:auto"


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 task``, ``2 tasks``: the one pluralisation style of every message and table."""
    return f"{count} {word if count == 1 else words or word + 's'}"


class Table:
    """Rows of strings under a title; displays as aligned text or a left-aligned HTML table.

    ``notes`` are lines shown between the title and the rows (e.g. problems of the whole check).
    ``status_column`` is the index of a column holding a status or severity (``error``,
    ``warning``, ``ok``...): its cells are coloured and its rows carry the class
    ``kfp-nbsecrets-<status>``. ``limit`` caps the rows shown (text and HTML); a last line then
    says how many were left out (``len()`` still counts them all).
    """

    def __init__(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
                 empty: str = "nothing to show", *, notes: Sequence[str] = (),
                 status_column: int | None = None, limit: int | None = None) -> None:
        self.title = title
        self.columns = tuple(columns)
        self.rows = [tuple("" if cell is None else str(cell) for cell in row) for row in rows]
        self.empty = empty
        self.notes = list(notes)
        self.status_column = status_column
        self.limit = limit

    def _shown(self) -> list[tuple[str, ...]]:
        return self.rows if self.limit is None else self.rows[: self.limit]

    def _left_out(self) -> str:
        hidden = len(self.rows) - len(self._shown())
        return f"\u2026 {plural(hidden, 'more row')} not shown (first {self.limit} of {len(self.rows)})" \
            if hidden else ""

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        lines = [self.title, *(f"  ! {note}" for note in self.notes)]
        if not self.rows:
            return "\n".join([*lines, f"  {self.empty}"]) if self.notes else f"{self.title}: {self.empty}"
        shown = self._shown()
        widths = [max(len(row[i]) for row in [self.columns, *shown]) for i in range(len(self.columns))]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                  for row in [self.columns, *shown]]
        if self._left_out():
            lines.append(self._left_out())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        notes = "".join(f"<li>{esc(note)}</li>" for note in self.notes)
        notes = f"<ul class='kfp-nbsecrets-notes'>{notes}</ul>" if notes else ""
        if not self.rows:
            return f"<div><p><b>{esc(self.title)}</b>: {esc(self.empty)}</p>{notes}</div>"
        head = "".join(f"<th style='{_CELL}'>{esc(column)}</th>" for column in self.columns)
        body = "".join(self._html_row(row) for row in self._shown())
        left_out = f"<p><i>{esc(self._left_out())}</i></p>" if self._left_out() else ""
        return (f"<div><p><b>{esc(self.title)}</b></p>{notes}<table class='kfp-nbsecrets-table'"
                f" style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{left_out}"
                f"</div>")

    def _html_row(self, row: tuple[str, ...]) -> str:
        status = row[self.status_column] if self.status_column is not None else None
        colour = STATUS_COLOURS.get((status or "").split(" ")[0])
        styles = [_CELL] * len(row)
        if colour:
            styles[self.status_column] += f";color:{colour};font-weight:600"
        cells = [f"<td style='{style}'>{html.escape(text)}</td>"
                 for style, text in zip(styles, row, strict=True)]
        kind = f" class='kfp-nbsecrets-{html.escape(status.split(' ')[0])}'" if status else ""
        return f"<tr{kind}>{''.join(cells)}</tr>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}
