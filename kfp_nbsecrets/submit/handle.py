"""The handle of a submitted run: its state from polling ``get_run``, and pod events of stuck tasks."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kfp_nbsecrets.errors import KfpNbSecretsError
from kfp_nbsecrets.submit.client import Backoff, _within, read
from kfp_nbsecrets.submit.errors import BackendTimeout, SubmitError, _short
from kfp_nbsecrets.tables import Table

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})
POD_EVENTS_MIN_TIME = 0.5  # seconds left of a wait below which pod events are not listed
DEADLINE_SLACK = 0.05


def about_lines(backend: str | None, notes: list[str]) -> list[str]:
    """The text lines saying which backend version was used and what was done on the way."""
    return ([f"  backend {backend}"] if backend else []) + [f"  note: {note}" for note in notes]


def about_html(backend: str | None, notes: list[str]) -> str:
    """:func:`about_lines` as HTML (after the title line)."""
    esc = html.escape
    return ((f" <small>backend {esc(backend)}</small>" if backend else "")
            + "".join(f"<br><small>{esc(note)}</small>" for note in notes))


@dataclass(frozen=True)
class TaskState:
    name: str
    state: str
    pod: str | None = None
    error: str | None = None


class RunHandle:
    """A submitted run: id, name, UI link, and its state from polling ``get_run``.

    ``refresh()`` reads the run once (retrying the read with backoff), ``wait(timeout)`` polls with
    backoff until a terminal state. ``backend`` is the backend version the run was checked against
    and ``notes`` what the submission did on the way (names resolved, guard off). With ``pod_events``
    (a callable ``(namespace, pod_names) -> {pod: problem}``), tasks stuck on a missing secret or key get
    a problem naming it.
    """

    def __init__(self, client: Any, run_id: str, name: str, url: str, *, experiment_id: str | None = None,
                 namespace: str | None = None, run: Any = None, backoff: Backoff | None = None,
                 pod_events: Callable[[str | None, list[str]], dict[str, str]] | None = None,
                 backend: str | None = None, notes: list[str] | None = None) -> None:
        self.client = client
        self.run_id = run_id
        self.name = name
        self.url = url
        self.experiment_id = experiment_id
        self.namespace = namespace
        self.backoff = backoff or Backoff()
        self.pod_events = pod_events
        self.backend = backend
        self.notes = list(notes or [])
        self.state = "PENDING"
        self.error: str | None = None
        self.tasks: list[TaskState] = []
        self.problems: list[str] = []
        self._view: Any = None
        self._lock = threading.Lock()
        if run is not None:
            self._update(run)

    # -- state ---------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def task_states(self) -> dict[str, str]:
        return {task.name: task.state for task in self.tasks}

    def refresh(self, stop: threading.Event | None = None, deadline: float | None = None) -> RunHandle:
        """Read the run's state once (an idempotent read, retried on 5xx/timeouts, within ``deadline``)."""
        run = read(self.client, lambda timeout: self.client._run_api.run_service_get_run(
            run_id=self.run_id, _request_timeout=timeout), f"reading run {self.run_id}", stop=stop,
            deadline=deadline, backoff=Backoff(self.backoff.initial, self.backoff.maximum))
        self._update(run)
        if self.pod_events is not None and not self.done:
            self._inspect_pods(deadline)
        return self

    def _update(self, run: Any) -> None:
        state = getattr(run, "state", None) or "PENDING"
        error = getattr(run, "error", None)
        details = getattr(run, "run_details", None)
        tasks = []
        for detail in (getattr(details, "task_details", None) or []):
            name = getattr(detail, "display_name", None) or getattr(detail, "task_id", "?")
            task_error = getattr(detail, "error", None)
            message = (_short(getattr(task_error, "message", "")) or None) if task_error else None
            tasks.append(TaskState(str(name), str(getattr(detail, "state", None) or "PENDING"),
                                   getattr(detail, "pod_name", None) or None, message))
        with self._lock:
            self.state = str(state)
            self.error = _short(getattr(error, "message", "")) or None if error else None
            self.tasks = tasks

    def _inspect_pods(self, deadline: float | None = None) -> None:
        pods = [task.pod for task in self.tasks if task.pod and task.state not in TERMINAL_STATES]
        left = None if deadline is None else deadline - time.monotonic()
        if not pods or (left is not None and left < POD_EVENTS_MIN_TIME):
            return
        try:
            if left is None:
                found = self.pod_events(self.namespace, pods)
            else:
                found = _within(lambda _: self.pod_events(self.namespace, pods), (left, left), left,
                                "listing pod events", None)
        except KfpNbSecretsError:  # no events (cluster unreachable, denied, slow): run states only
            return
        by_pod = {task.pod: task.name for task in self.tasks}
        self.problems = [f"task {by_pod.get(pod, pod)}: {problem}"
                         for pod, problem in sorted((found or {}).items())]

    def wait(self, timeout: float | None = None, *, on_update: Callable[[RunHandle], None] | None = None,
             stop: threading.Event | None = None) -> str:
        """Poll until a terminal state (returned), ``timeout`` seconds (BackendTimeout) or ``stop`` is set.

        Whatever the server does, the call returns within about ``timeout`` seconds: each status read,
        its request timeout and the delays between reads fit in what is left of it.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = self.backoff.delays()
        stop = stop or threading.Event()
        while True:
            try:
                self.refresh(stop, deadline)
            except SubmitError as error:
                if stop.is_set():  # stopped during a read: the read is abandoned, not an error
                    return self.state
                if isinstance(error, BackendTimeout) and deadline is not None \
                        and time.monotonic() >= deadline - DEADLINE_SLACK:
                    raise self._still_running(timeout) from None
                raise
            if on_update is not None:
                on_update(self)
            if self.done or stop.is_set():
                return self.state
            delay = next(delays)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._still_running(timeout)
                delay = min(delay, left)
            if stop.wait(delay):
                return self.state

    def _still_running(self, timeout: float | None) -> BackendTimeout:
        return BackendTimeout(f"run {self.name!r} is still {self.state} after {timeout:g} s (last state"
                              f" read); wait again or open {self.url}")

    # -- display -------------------------------------------------------------------------------

    def attach_view(self, view: Any) -> None:
        """Attach a live view (e.g. the ipywidgets status line) shown instead of the static HTML."""
        self._view = view

    def status_line(self) -> str:
        text = f"{self.state}"
        if self.tasks:
            counts: dict[str, int] = {}
            for task in self.tasks:
                counts[task.state] = counts.get(task.state, 0) + 1
            text += " (" + ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) + ")"
        if self.error:
            text += f": {self.error}"
        return text

    def __repr__(self) -> str:
        lines = [f"Run {self.name!r} ({self.run_id}): {self.status_line()}", f"  {self.url}"]
        lines += about_lines(self.backend, self.notes)
        lines += [f"  ! {p}" for p in self.problems]
        if self.done or self.tasks:
            lines += [f"  {t.name}: {t.state}" + (f" - {t.error}" if t.error else "") for t in self.tasks]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        problems = "".join(f"<li>{esc(p)}</li>" for p in self.problems)
        return (f"<div class='kfp-nbsecrets-run'><b>Run {esc(self.name)}</b> "
                f"<a href='{esc(self.url, quote=True)}' target='_blank' rel='noopener'>open in KFP UI</a>"
                f"{about_html(self.backend, self.notes)}"
                f"<br><span class='kfp-nbsecrets-run-state'>{esc(self.status_line())}</span>"
                + (f"<ul>{problems}</ul>" if problems else "")
                + (self._tasks_table()._repr_html_() if self.tasks else "") + "</div>")

    def _tasks_table(self) -> Table:
        return Table("Tasks", ("task", "state", "error"), [(t.name, t.state, t.error) for t in self.tasks])

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        view_bundle = getattr(self._view, "_repr_mimebundle_", None)
        if view_bundle is not None:
            extra = view_bundle() or {}
            bundle.update({k: v for k, v in extra.items() if k != "text/plain"})
        return bundle


_SECRET_IN_MESSAGE = re.compile(r"""secrets? \\?["']([^"'\\]+)\\?["'] not found""")
# the kubelet's message for a key missing from an existing secret (pkg/kubelet/kubelet_pods.go)
_KEY_IN_MESSAGE = re.compile(r"couldn't find key (\S+) in Secret (?:[^/\s]+/)?(\S+)")


def secret_problem_from_events(events: list[Mapping[str, Any]], pods: list[str]) -> dict[str, str]:
    """``{pod: problem}`` for pods with a CreateContainerConfigError / FailedMount event naming a missing
    secret, or a missing key of a secret."""
    wanted = set(pods)
    found: dict[str, str] = {}
    for event in events:
        involved = event.get("involvedObject") or {}
        pod = involved.get("name")
        if pod not in wanted or involved.get("kind", "Pod") != "Pod":
            continue
        reason = str(event.get("reason") or "")
        if reason not in ("Failed", "FailedMount", "CreateContainerConfigError"):
            continue
        kind = "FailedMount" if reason == "FailedMount" else "CreateContainerConfigError"
        message = str(event.get("message") or "")
        missing_secret = _SECRET_IN_MESSAGE.search(message)
        missing_key = _KEY_IN_MESSAGE.search(message)
        if missing_secret:
            found[pod] = f"stuck on missing secret {missing_secret[1]!r} ({kind})"
        elif missing_key:
            found[pod] = f"stuck on missing key {missing_key[1]!r} of secret {missing_key[2]!r} ({kind})"
    return found


def kube_pod_events(timeout: float = 5.0, context: str | None = None, config_file: str | None = None):
    """A ``pod_events`` callable that lists the namespace's events with the kubernetes client.

    The cluster is the one the Kubernetes secret source uses (same kubeconfig loader and context).
    Returns None when no cluster configuration is found (the status then shows run states only).
    """
    from kubernetes import client

    from kfp_nbsecrets.sources import SourceUnavailable, kubeconfig

    try:
        configuration, _, _ = kubeconfig.load(config_file=config_file, context=context)
    except SourceUnavailable:
        return None
    api = client.CoreV1Api(client.ApiClient(configuration))

    def pod_events(namespace: str | None, pods: list[str]) -> dict[str, str]:
        import json

        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            response = api.list_namespaced_event(namespace or "default", _preload_content=False,
                                                 _request_timeout=(timeout, timeout))
            items = json.loads(response.data).get("items") or []
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            raise SourceUnavailable(f"cannot list the events of namespace {namespace or 'default'!r}:"
                                    f" {type(error).__name__}") from None
        return secret_problem_from_events(items, pods)

    return pod_events
