"""A live status line for a submitted run (ipywidgets), updated by polling in a background thread.

The poller calls :meth:`kfp_nbsecrets.submit.RunHandle.wait` (``get_run`` with backoff, no busy loop)
until the run reaches a terminal state or the user presses "Stop updating" (the run itself goes on).
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets

from kfp_nbsecrets.errors import KfpNbSecretsError, one_line
from kfp_nbsecrets.submit.handle import about_html

_COLOURS = {"SUCCEEDED": "#2e7d32", "FAILED": "#c62828", "CANCELED": "#6d4c41", "SKIPPED": "#6d4c41",
            "RUNNING": "#1565c0", "PENDING": "#757575"}


class RunStatus:
    """Status line + per-task states + a stop button for one :class:`~kfp_nbsecrets.submit.RunHandle`."""

    def __init__(self, handle: Any, *, autostart: bool = True) -> None:
        self.handle = handle
        self.line = widgets.HTML()
        self.details = widgets.HTML()
        self.stop_button = widgets.Button(description="Stop updating",
                                          tooltip="Stop polling (the run goes on)",
                                          layout=widgets.Layout(width="auto"))
        self.stop_button.on_click(lambda _button: self.stop())
        self.widget = widgets.VBox([widgets.HBox([self.line, self.stop_button]), self.details])
        self.widget.add_class("kfp-nbsecrets-run-status")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: str | None = None
        self.update(handle)
        if autostart and not handle.done:
            self.start()

    # -- polling -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name=f"kfp-run-status-{self.handle.run_id}",
                                        daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        try:
            self.handle.wait(on_update=self.update, stop=self._stop)
        except KfpNbSecretsError as error:  # the server stopped answering, refused...: shown in the line
            self.failure = one_line(error)
        except BaseException as error:  # a bug: shown, then raised with its traceback (threading.excepthook)
            self.failure = f"internal error: {type(error).__name__}"
            raise
        finally:
            self.update(self.handle)
            self.stop_button.disabled = True

    def stop(self) -> None:
        """Stop polling (the run is not affected)."""
        self._stop.set()
        self.stop_button.disabled = True

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def polling(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- rendering -----------------------------------------------------------------------------

    def update(self, handle: Any = None) -> None:
        handle = handle or self.handle
        esc = html.escape
        colour = _COLOURS.get(handle.state, "#757575")
        stopped = " (updates stopped)" if self._stop.is_set() and not handle.done else ""
        failure = f" <i>- status unavailable: {esc(self.failure)}</i>" if self.failure else ""
        self.line.value = (
            f"<b>{esc(handle.name)}</b> "
            f"<a href='{esc(handle.url, quote=True)}' target='_blank' rel='noopener'>open in KFP UI</a> "
            f"<span style='color:{colour}'>{esc(handle.status_line())}</span>{esc(stopped)}{failure}"
        )
        problems = "".join(f"<li style='color:#c62828'>{esc(p)}</li>" for p in handle.problems)
        tasks = "".join(f"<li>{esc(t.name)}: {esc(t.state)}" + (f" - {esc(t.error)}" if t.error else "")
                        + "</li>" for t in handle.tasks)
        self.details.value = (about_html(handle.backend, handle.notes)
                              + (f"<ul>{problems}</ul>" if problems else "")
                              + (f"<ul>{tasks}</ul>" if tasks else ""))

    def text(self) -> str:
        return repr(self.handle)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
        bundle["text/plain"] = self.text()
        return bundle


def status_widget(handle: Any, *, autostart: bool = True) -> RunStatus:
    """A :class:`RunStatus` for ``handle``, attached so that displaying the handle shows it live."""
    status = RunStatus(handle, autostart=autostart)
    handle.attach_view(status)
    return status
