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


def style(scope: str) -> str:
    """The table and cell styles as rules for the tables inside ``scope`` (a class selector), for a page
    that carries them once in a ``<style>`` (see :meth:`Table.html`). They outrank JupyterLab's
    ``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td`` (two classes and two types)."""
    table = f"{scope} table.kfp-nbsecrets-table"
    return f"{table}{{{_TABLE}}}{table} :is(td,th){{{_CELL}}}"


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
        return self.html()

    def html(self, inline_style: bool = True) -> str:
        """The escaped HTML table. Without ``inline_style``, only the status colour is written on the
        cells: the page then carries :func:`style`."""
        def esc(text: str) -> str:
            return html.escape(text, quote=False)

        notes = "".join(f"<li>{esc(note)}</li>" for note in self.notes)
        notes = f"<ul class='kfp-nbsecrets-notes'>{notes}</ul>" if notes else ""
        if not self.rows:
            return f"<div><p><b>{esc(self.title)}</b>: {esc(self.empty)}</p>{notes}</div>"
        cell = f" style='{_CELL}'" if inline_style else ""
        table = f" style='{_TABLE}'" if inline_style else ""
        head = "".join(f"<th{cell}>{esc(column)}</th>" for column in self.columns)
        body = "".join(self._html_row(row, cell) for row in self._shown())
        left_out = f"<p><i>{esc(self._left_out())}</i></p>" if self._left_out() else ""
        return (f"<div><p><b>{esc(self.title)}</b></p>{notes}<table class='kfp-nbsecrets-table'{table}>"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{left_out}</div>")

    def _html_row(self, row: tuple[str, ...], cell: str) -> str:
        """One ``<tr>``; ``cell`` is the attribute every cell carries (the inline style, or none)."""
        status = row[self.status_column] if self.status_column is not None else None
        colour = STATUS_COLOURS.get((status or "").split(" ")[0])
        cells = [cell] * len(row)
        if colour:
            own = f"color:{colour};font-weight:600"
            cells[self.status_column] = f" style='{_CELL};{own}'" if cell else f" style='{own}'"
        cells = [f"<td{attribute}>{html.escape(text, quote=False)}</td>"
                 for attribute, text in zip(cells, row, strict=True)]
        kind = f" class='kfp-nbsecrets-{html.escape(status.split(' ')[0])}'" if status else ""
        return f"<tr{kind}>{''.join(cells)}</tr>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}
