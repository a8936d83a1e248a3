"""Submit runs through ``kfp.Client``: pre-run secret check, version-skew guard, and a run handle.

:func:`submit` checks the secrets a run would use (:mod:`kfp_nbsecrets.check`), refuses features
the configured backend version rejects (or, only when asked, rewrites them to a safe equivalent),
then creates the run once -- a run creation is never retried, so no duplicate runs -- and returns a
:class:`RunHandle`. Idempotent reads (health, experiment lookup, run status) are retried with backoff.
Every failure is a one-line :class:`SubmitError` subclass. Host and auth follow ``kfp.Client``:
explicit host, ``KF_PIPELINES_ENDPOINT``, in-cluster defaults, the service-account token at
``KF_PIPELINES_SA_TOKEN_PATH``, ``existing_token`` and ``cookies``.
"""

from __future__ import annotations

import copy
import datetime
import html
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kfp_nbsecrets import ir

TERMINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})
SECRET_NAME_PARAMETER_SINCE = (2, 5, 0)
OPTIONAL_ENV_SINCE = (2, 15, 0)
DEFAULT_TIMEOUT = 30.0
READ_ATTEMPTS = 4
RUN_DETAILS_PATH = "/#/runs/details/"
IN_CLUSTER_UI_PREFIX = "/pipeline"


# ---------------------------------------------------------------------------------------------
# Errors


class SubmitError(Exception):
    """Base of submission errors; messages are one line."""


class AuthError(SubmitError):
    """401/403: missing, expired or insufficient credentials."""


class NotFoundError(SubmitError):
    """404: the experiment or run does not exist."""


class ServerError(SubmitError):
    """5xx from the KFP API."""


class RejectedError(SubmitError):
    """4xx other than auth/not-found: the backend rejected the request (e.g. an unknown field)."""


class BackendTimeout(SubmitError):
    """The KFP API did not answer in time."""


class Unreachable(SubmitError):
    """The KFP API host cannot be reached (connection refused, DNS, TLS)."""


class VersionSkewError(SubmitError):
    """The pipeline uses secret features the configured backend version rejects."""


def _retryable(error: SubmitError) -> bool:
    return isinstance(error, ServerError | BackendTimeout | Unreachable)


def translate(error: BaseException, what: str, host: str | None = None) -> SubmitError:
    """A one-line typed error for an exception of the KFP client."""
    import kfp_server_api
    import urllib3

    where = f" at {host}" if host else ""
    if isinstance(error, SubmitError):
        return error
    if isinstance(error, kfp_server_api.ApiException):
        status = int(error.status or 0)
        detail = _api_message(error)
        if status in (401, 403):
            hint = ("set %config KfpSecretMagics.existing_token / cookies, or check the service-account"
                    " token (KF_PIPELINES_SA_TOKEN_PATH)")
            label = "Unauthorized" if status == 401 else "Forbidden"
            return AuthError(f"{what} was refused{where} ({status} {label}{': ' + detail if detail else ''});"
                             f" {hint}")
        if status == 404:
            return NotFoundError(f"{what}: not found{where}{': ' + detail if detail else ''}")
        if status >= 500:
            return ServerError(f"{what} failed{where}: server error {status}"
                               f"{': ' + detail if detail else ''}")
        if status == 0:
            return Unreachable(f"{what}: no answer from the KFP API{where}: {_short(error)}")
        return RejectedError(f"{what} was rejected{where} ({status}){': ' + detail if detail else ''}")
    refused = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError, ConnectionError)
    timeouts = (urllib3.exceptions.TimeoutError, TimeoutError)
    if isinstance(error, refused) or isinstance(getattr(error, "reason", None), refused):
        return Unreachable(f"{what}: cannot reach the KFP API{where}: {_short(error)}; check the host"
                           f" (%config KfpSecretMagics.kfp_host or KF_PIPELINES_ENDPOINT)")
    if isinstance(error, timeouts) or isinstance(getattr(error, "reason", None), timeouts):
        return BackendTimeout(f"{what}: the KFP API{where} did not answer in time")
    if isinstance(error, urllib3.exceptions.HTTPError | OSError):
        return Unreachable(f"{what}: cannot reach the KFP API{where}: {_short(error)}; check the host"
                           f" (%config KfpSecretMagics.kfp_host or KF_PIPELINES_ENDPOINT)")
    return SubmitError(f"{what} failed: {type(error).__name__}: {_short(error)}")


def _api_message(error: Any) -> str:
    import json

    body = getattr(error, "body", None)
    try:
        data = json.loads(body) if body else {}
    except (TypeError, ValueError):
        data = {}
    message = data.get("message") or data.get("error") if isinstance(data, dict) else None
    text = str(message or "").strip() or str(getattr(error, "reason", "") or "")
    return _short(text)


def _short(value: Any, limit: int = 300) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Backoff


@dataclass
class Backoff:
    """Delays between polls or read retries: ``initial`` doubling (``factor``) up to ``maximum``."""

    initial: float = 1.0
    maximum: float = 15.0
    factor: float = 2.0

    def delays(self):
        delay = self.initial
        while True:
            yield delay
            delay = min(self.maximum, delay * self.factor)


def _read(call: Callable[[], Any], what: str, host: str | None, backoff: Backoff,
          stop: threading.Event | None = None, attempts: int = READ_ATTEMPTS) -> Any:
    """An idempotent read, retried on 5xx, timeouts and connection errors (never on 4xx)."""
    delays = backoff.delays()
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as raw:  # noqa: BLE001 - translated below
            error = translate(raw, what, host)
            if not _retryable(error) or attempt == attempts:
                raise error from None
        delay = next(delays)
        if stop is not None:
            if stop.wait(delay):
                raise SubmitError(f"{what}: stopped")
        else:
            time.sleep(delay)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# Client


def _client_class():
    import kfp

    class Client(kfp.Client):
        """``kfp.Client`` with bounded requests: no urllib3 retries (a POST is sent once), one-line errors
        and a health probe that retries with backoff instead of five fixed 5 s sleeps."""

        _nbsecrets_timeout: float = DEFAULT_TIMEOUT
        _nbsecrets_backoff: Backoff = Backoff(0.5, 4.0)

        def _load_config(self, *args: Any, **kwargs: Any):
            config = super()._load_config(*args, **kwargs)
            config.retries = False
            return config

        def get_kfp_healthz(self, sleep_duration: int = 5):
            host = self._existing_config.host if hasattr(self, "_existing_config") else None
            return _read(lambda: self._healthz_api.healthz_service_get_healthz(
                _request_timeout=self.request_timeout()), "the KFP health check", host,
                self._nbsecrets_backoff)

        def request_timeout(self) -> tuple[float, float]:
            return (min(10.0, self._nbsecrets_timeout), self._nbsecrets_timeout)

    return Client


def connect(host: str | None = None, *, namespace: str | None = None, existing_token: str | None = None,
            cookies: str | None = None, ui_host: str | None = None, kube_context: str | None = None,
            verify_ssl: bool | None = None, timeout: float = DEFAULT_TIMEOUT,
            backoff: Backoff | None = None) -> Any:
    """A ``kfp.Client`` (subclass) configured the way KFP users set it up.

    ``host`` defaults to ``KF_PIPELINES_ENDPOINT``, then kfp's in-cluster / kubeconfig defaults. Auth:
    ``existing_token``, else the service-account token file ``KF_PIPELINES_SA_TOKEN_PATH`` when it exists
    (as in Kubeflow notebooks), else none; ``cookies`` is a Cookie header (e.g. an auth session cookie).
    """
    import kfp.client as kfp_client
    from kfp.client import client as client_module

    token_path = os.environ.get(kfp_client.KF_PIPELINES_SA_TOKEN_ENV) or kfp_client.KF_PIPELINES_SA_TOKEN_PATH
    credentials = None
    if not existing_token and token_path and os.path.isfile(token_path):
        from kfp.client.set_volume_credentials import ServiceAccountTokenVolumeCredentials

        credentials = ServiceAccountTokenVolumeCredentials(token_path)
    cls = _client_class()
    cls._nbsecrets_timeout = float(timeout)
    if backoff is not None:
        cls._nbsecrets_backoff = backoff
    target = host or os.environ.get(client_module.KF_PIPELINES_ENDPOINT_ENV)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            client = cls(host=host, namespace=namespace or "kubeflow", existing_token=existing_token or None,
                         cookies=cookies or None, ui_host=ui_host, kube_context=kube_context,
                         credentials=credentials, verify_ssl=verify_ssl)
    except Exception as error:  # noqa: BLE001
        raise translate(error, "connecting to the KFP API", target) from None
    client._nbsecrets_host = client._existing_config.host
    client._nbsecrets_ui_host = ui_host
    return client


def run_url(client: Any, run_id: str) -> str:
    """The run's page in the KFP UI: absolute for an external host, relative (behind the Kubeflow
    dashboard) in-cluster."""
    ui = (os.environ.get("KF_PIPELINES_UI_ENDPOINT") or getattr(client, "_nbsecrets_ui_host", None)
          or getattr(client, "_uihost", None) or "")
    if ui and ".svc" not in ui:
        prefix = ui if ui.startswith(("http://", "https://")) else "http://" + ui
        return prefix.rstrip("/") + RUN_DETAILS_PATH + run_id
    return IN_CLUSTER_UI_PREFIX + RUN_DETAILS_PATH + run_id


# ---------------------------------------------------------------------------------------------
# Version skew


@dataclass(frozen=True)
class SkewIssue:
    """One secret entry the configured backend would reject."""

    executor: str
    kind: str
    feature: str
    fixable: bool
    message: str


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+.].*)?\s*", str(text))
    if not match:
        raise ValueError(f"backend version {text!r} is not like '2.14.3'; set it as MAJOR.MINOR.PATCH")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def _entries(compiled: ir.CompiledPipeline):
    executors = compiled.platform_spec.get("platforms", {}).get("kubernetes", {})
    for label, config in sorted(executors.get("deploymentSpec", {}).get("executors", {}).items()):
        for kind, key in (("env", "secretAsEnv"), ("volume", "secretAsVolume")):
            for entry in config.get(key, []) or []:
                yield label, kind, entry


def version_skew(pipeline: Any, backend_version: str | None) -> list[SkewIssue]:
    """The secret entries a backend of ``backend_version`` rejects (none when the version is not set)."""
    if not backend_version:
        return []
    version = parse_version(backend_version)
    compiled = pipeline if isinstance(pipeline, ir.CompiledPipeline) else ir.load(pipeline)
    issues = []
    for label, kind, entry in _entries(compiled):
        parameter = entry.get("secretNameParameter")
        if parameter is not None and version < SECRET_NAME_PARAMETER_SINCE:
            constant = (parameter.get("runtimeValue") or {}).get("constant")
            literal = isinstance(constant, str) and constant
            if literal:
                message = (f"{label}: backend {backend_version} (< 2.5.0) rejects 'secretNameParameter'"
                           f" (KFP #11935); the name {constant!r} is literal, so it can be sent as the"
                           f" deprecated 'secretName' only: pass legacy_secret_name=True"
                           f" (magic: --legacy-secret-name)")
            else:
                source = ", ".join(f"{k}" for k in parameter) or "an expression"
                message = (f"{label}: backend {backend_version} (< 2.5.0) cannot take a secret name from a"
                           f" parameter or task output ({source}); upgrade the backend to 2.5.0 or later,"
                           f" or use a literal secret name")
            issues.append(SkewIssue(label, kind, "secretNameParameter", bool(literal), message))
        if kind == "env" and "optional" in entry and version < OPTIONAL_ENV_SINCE:
            if entry["optional"]:
                message = (f"{label}: backend {backend_version} (< 2.15.0) rejects 'optional' on env secrets"
                           f" (KFP #12495); drop it (the secret becomes required) with drop_optional=True"
                           f" (magic: --drop-optional), or upgrade the backend")
            else:
                message = (f"{label}: 'optional: false' is dropped for backend {backend_version}"
                           f" (same meaning)")
            issues.append(SkewIssue(label, kind, "optional", True, message))
    return issues


def apply_version_compat(pipeline: Any, backend_version: str | None, *, legacy_secret_name: bool = False,
                         drop_optional: bool = False) -> ir.CompiledPipeline:
    """A copy of the pipeline the backend accepts; raises VersionSkewError for what cannot be sent.

    Rewrites only what was asked for: ``legacy_secret_name`` keeps a literal name as the deprecated
    ``secretName`` and drops ``secretNameParameter``; ``drop_optional`` drops ``optional`` from env
    secrets (they become required). ``optional: false`` is always dropped (same meaning).
    """
    compiled = copy.deepcopy(pipeline) if isinstance(pipeline, ir.CompiledPipeline) else ir.load(pipeline)
    issues = version_skew(compiled, backend_version)
    refused = [i for i in issues if not i.fixable
               or (i.feature == "secretNameParameter" and not legacy_secret_name)
               or (i.feature == "optional" and not drop_optional and "optional: false" not in i.message)]
    if refused:
        raise VersionSkewError(f"refusing to submit {compiled.name!r}: "
                               + "; ".join(i.message for i in refused))
    if not issues:
        return compiled
    version = parse_version(str(backend_version))
    for _label, kind, entry in _entries(compiled):
        if "secretNameParameter" in entry and version < SECRET_NAME_PARAMETER_SINCE:
            entry["secretName"] = entry.pop("secretNameParameter")["runtimeValue"]["constant"]
        if kind == "env" and "optional" in entry and version < OPTIONAL_ENV_SINCE:
            entry.pop("optional")
    return compiled


# ---------------------------------------------------------------------------------------------
# Run handle


@dataclass(frozen=True)
class TaskState:
    name: str
    state: str
    pod: str | None = None
    error: str | None = None


class RunHandle:
    """A submitted run: id, name, UI link, and its state from polling ``get_run``.

    ``refresh()`` reads the run once (retrying the read with backoff), ``wait(timeout)`` polls with
    backoff until a terminal state. With ``pod_events`` (a callable ``(namespace, pod_names) ->
    {pod: problem}``), tasks stuck on a missing secret get a problem naming it.
    """

    def __init__(self, client: Any, run_id: str, name: str, url: str, *, experiment_id: str | None = None,
                 namespace: str | None = None, run: Any = None, backoff: Backoff | None = None,
                 pod_events: Callable[[str | None, list[str]], dict[str, str]] | None = None) -> None:
        self.client = client
        self.run_id = run_id
        self.name = name
        self.url = url
        self.experiment_id = experiment_id
        self.namespace = namespace
        self.backoff = backoff or Backoff()
        self.pod_events = pod_events
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

    def refresh(self, stop: threading.Event | None = None) -> RunHandle:
        """Read the run's state once (an idempotent read, retried on 5xx/timeouts)."""
        host = getattr(self.client, "_nbsecrets_host", None)
        timeout = self.client.request_timeout() if hasattr(self.client, "request_timeout") else None
        run = _read(lambda: self.client._run_api.run_service_get_run(run_id=self.run_id,
                                                                      _request_timeout=timeout),
                    f"reading run {self.run_id}", host, Backoff(self.backoff.initial, self.backoff.maximum),
                    stop)
        self._update(run)
        if self.pod_events is not None and not self.done:
            self._inspect_pods()
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

    def _inspect_pods(self) -> None:
        pods = [task.pod for task in self.tasks if task.pod and task.state not in TERMINAL_STATES]
        if not pods:
            return
        try:
            found = self.pod_events(self.namespace, pods) or {}
        except Exception:  # noqa: BLE001 - cluster access is best effort
            return
        by_pod = {task.pod: task.name for task in self.tasks}
        self.problems = [f"task {by_pod.get(pod, pod)}: {problem}" for pod, problem in sorted(found.items())]

    def wait(self, timeout: float | None = None, *, on_update: Callable[[RunHandle], None] | None = None,
             stop: threading.Event | None = None) -> str:
        """Poll until a terminal state (returned), ``timeout`` seconds (BackendTimeout) or ``stop`` is set."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = self.backoff.delays()
        stop = stop or threading.Event()
        while True:
            self.refresh(stop)
            if on_update is not None:
                on_update(self)
            if self.done or stop.is_set():
                return self.state
            delay = next(delays)
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BackendTimeout(f"run {self.name!r} is still {self.state} after {timeout:g} s;"
                                         f" wait again or open {self.url}")
                delay = min(delay, left)
            if stop.wait(delay):
                return self.state

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
        lines += [f"  ! {p}" for p in self.problems]
        if self.done or self.tasks:
            lines += [f"  {t.name}: {t.state}" + (f" - {t.error}" if t.error else "") for t in self.tasks]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(f"<tr><td>{esc(t.name)}</td><td>{esc(t.state)}</td><td>{esc(t.error or '')}</td></tr>"
                       for t in self.tasks)
        problems = "".join(f"<li>{esc(p)}</li>" for p in self.problems)
        return (f"<div class='kfp-nbsecrets-run'><b>Run {esc(self.name)}</b> "
                f"<a href='{esc(self.url, quote=True)}' target='_blank' rel='noopener'>open in KFP UI</a>"
                f"<br><span class='kfp-nbsecrets-run-state'>{esc(self.status_line())}</span>"
                + (f"<ul>{problems}</ul>" if problems else "")
                + (f"<table class='kfp-nbsecrets-table'><thead><tr><th>task</th><th>state</th><th>error</th>"
                   f"</tr></thead><tbody>{rows}</tbody></table>" if rows else "") + "</div>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        view_bundle = getattr(self._view, "_repr_mimebundle_", None)
        if view_bundle is not None:
            extra = view_bundle() or {}
            bundle.update({k: v for k, v in extra.items() if k != "text/plain"})
        return bundle


# ---------------------------------------------------------------------------------------------
# Pod events


_SECRET_IN_MESSAGE = re.compile(r"""secrets? \\?["']([^"'\\]+)\\?["'] not found""")


def secret_problem_from_events(events: list[Mapping[str, Any]], pods: list[str]) -> dict[str, str]:
    """``{pod: problem}`` for pods with a CreateContainerConfigError / FailedMount event naming a secret."""
    wanted = set(pods)
    found: dict[str, str] = {}
    for event in events:
        involved = event.get("involvedObject") or {}
        pod = involved.get("name")
        if pod not in wanted or involved.get("kind", "Pod") != "Pod":
            continue
        reason = str(event.get("reason") or "")
        match = _SECRET_IN_MESSAGE.search(str(event.get("message") or ""))
        if match and reason in ("Failed", "FailedMount", "CreateContainerConfigError"):
            kind = "FailedMount" if reason == "FailedMount" else "CreateContainerConfigError"
            found[pod] = f"stuck on missing secret {match[1]!r} ({kind})"
    return found


def kube_pod_events(timeout: float = 5.0, context: str | None = None):
    """A ``pod_events`` callable that lists the namespace's events with the kubernetes client.

    Returns None when no cluster configuration is found (the status then shows run states only).
    """
    try:
        from kubernetes import client, config

        configuration = client.Configuration()
        if os.environ.get("KUBERNETES_SERVICE_HOST") and not os.environ.get("KUBECONFIG"):
            config.load_incluster_config(client_configuration=configuration)
        else:
            # KUBECONFIG is read now: the kubernetes package reads it only once, at import
            config.load_kube_config(config_file=os.environ.get("KUBECONFIG") or None, context=context,
                                    client_configuration=configuration)
        configuration.retries = False
        api = client.CoreV1Api(client.ApiClient(configuration))
    except Exception:  # noqa: BLE001 - no cluster access: no pod events
        return None

    def pod_events(namespace: str | None, pods: list[str]) -> dict[str, str]:
        import json

        response = api.list_namespaced_event(namespace or "default", _preload_content=False,
                                             _request_timeout=(timeout, timeout))
        items = json.loads(response.data).get("items") or []
        return secret_problem_from_events(items, pods)

    return pod_events


# ---------------------------------------------------------------------------------------------
# Submit


def _pipeline_payload(compiled: ir.CompiledPipeline) -> dict:
    platforms = compiled.platform_spec.get("platforms", {})
    if any(platforms.get(name) for name in platforms):
        return {"pipeline_spec": compiled.pipeline_spec, "platform_spec": compiled.platform_spec}
    return compiled.pipeline_spec


def find_or_create_experiment(client: Any, name: str, namespace: str | None) -> str:
    """The id of experiment ``name`` in ``namespace``, created when missing (lookup retried, creation not)."""
    import json

    import kfp_server_api

    host = getattr(client, "_nbsecrets_host", None)
    timeout = client.request_timeout() if hasattr(client, "request_timeout") else None
    predicate = {"operation": "EQUALS", "key": "display_name", "stringValue": name}
    filter_ = json.dumps({"predicates": [predicate]})
    kwargs = {"namespace": namespace} if namespace else {}
    found = _read(lambda: client._experiment_api.experiment_service_list_experiments(
        filter=filter_, _request_timeout=timeout, **kwargs), f"looking up experiment {name!r}", host,
        getattr(client, "_nbsecrets_backoff", Backoff(0.5, 4.0)))
    experiments = found.experiments or []
    if experiments:
        return experiments[0].experiment_id
    body = kfp_server_api.V2beta1Experiment(display_name=name, namespace=namespace or None)
    try:
        created = client._experiment_api.experiment_service_create_experiment(body, _request_timeout=timeout)
    except Exception as error:  # noqa: BLE001 - never retried
        raise translate(error, f"creating experiment {name!r}", host) from None
    return created.experiment_id


def submit(pipeline: Any, arguments: Mapping[str, Any] | None = None, *, client: Any = None,
           host: str | None = None, namespace: str | None = None, experiment: str | None = None,
           experiment_id: str | None = None, run_name: str | None = None, check: bool = True,
           source: Any = None, backend_version: str | None = None, legacy_secret_name: bool = False,
           drop_optional: bool = False, existing_token: str | None = None, cookies: str | None = None,
           ui_host: str | None = None, pipeline_root: str | None = None, enable_caching: bool | None = None,
           service_account: str | None = None, timeout: float = DEFAULT_TIMEOUT,
           backoff: Backoff | None = None, pod_events: Any = "auto") -> RunHandle:
    """Check and submit one run; returns its :class:`RunHandle` (nothing is printed).

    Order: version-skew guard, pre-run secret check (``check=False`` skips it; problems raise
    :class:`~kfp_nbsecrets.check.PreRunCheckError`), connect, experiment lookup/creation, run creation
    (sent once, never retried). ``experiment`` defaults to ``KF_PIPELINES_DEFAULT_EXPERIMENT_NAME`` or
    "Default"; ``experiment_id`` names an existing one instead.
    """
    import kfp_server_api

    compiled = apply_version_compat(pipeline, backend_version, legacy_secret_name=legacy_secret_name,
                                    drop_optional=drop_optional)
    arguments = dict(arguments or {})
    if check:
        from kfp_nbsecrets.check import check_run

        check_run(compiled, arguments, source=source, namespace=namespace).raise_for_problems()
    if client is None:
        client = connect(host, namespace=namespace, existing_token=existing_token, cookies=cookies,
                         ui_host=ui_host, timeout=timeout, backoff=backoff)
    target = getattr(client, "_nbsecrets_host", host)
    request_timeout = client.request_timeout() if hasattr(client, "request_timeout") else None
    if experiment_id:
        _read(lambda: client._experiment_api.experiment_service_get_experiment(
            experiment_id=experiment_id, _request_timeout=request_timeout),
            f"experiment {experiment_id!r}", target, backoff or Backoff(0.5, 4.0))
    else:
        name = experiment or os.environ.get("KF_PIPELINES_DEFAULT_EXPERIMENT_NAME") or "Default"
        experiment_id = find_or_create_experiment(client, name, namespace)
    run_name = run_name or f"{compiled.name} {datetime.datetime.now():%Y-%m-%d %H-%M-%S}"
    runtime = kfp_server_api.V2beta1RuntimeConfig(parameters=arguments or None, pipeline_root=pipeline_root)
    payload = _pipeline_payload(compiled)
    if enable_caching is not None:
        _override_caching(payload, enable_caching)
    body = kfp_server_api.V2beta1Run(experiment_id=experiment_id, display_name=run_name,
                                     pipeline_spec=payload, runtime_config=runtime,
                                     service_account=service_account)
    try:
        created = client._run_api.run_service_create_run(body, _request_timeout=request_timeout)
    except Exception as error:  # noqa: BLE001 - a run creation is never retried
        failure = translate(error, f"creating run {run_name!r}", target)
        if isinstance(failure, BackendTimeout | ServerError):
            failure = type(failure)(f"{failure}; the run may or may not exist: check the experiment's runs"
                                    f" before submitting again (not retried, to avoid a duplicate run)")
        raise failure from None
    if pod_events == "auto":
        pod_events = kube_pod_events() if namespace else None
    return RunHandle(client, created.run_id, created.display_name or run_name,
                     run_url(client, created.run_id), experiment_id=experiment_id, namespace=namespace,
                     run=created, backoff=backoff, pod_events=pod_events)


def _override_caching(payload: dict, enable: bool) -> None:
    spec = payload.get("pipeline_spec", payload)
    for component in [spec.get("root", {}), *spec.get("components", {}).values()]:
        for task in component.get("dag", {}).get("tasks", {}).values():
            task.setdefault("cachingOptions", {})["enableCache"] = enable


__all__ = [
    "AuthError", "Backoff", "BackendTimeout", "NotFoundError", "RejectedError", "RunHandle", "ServerError",
    "SkewIssue", "SubmitError", "TaskState", "Unreachable", "VersionSkewError", "apply_version_compat",
    "connect", "find_or_create_experiment", "kube_pod_events", "parse_version", "run_url",
    "secret_problem_from_events", "submit", "version_skew",
]
