"""Submit runs through ``kfp.Client``: pre-run secret check, version-skew guard, and a run handle.

:func:`submit` learns the backend version (configured, or the server's healthz ``tag_name``),
resolves parameter-named secrets into literal names for backends before 2.5.0, refuses features the
backend rejects (or, only when asked, rewrites them to a safe equivalent), checks the secrets a run
would use (:mod:`kfp_nbsecrets.check`), then creates the run once -- a creation is never retried, so
no duplicate runs -- and returns a :class:`RunHandle`. :func:`schedule` does the same for a
recurring run, :func:`upload` uploads a pipeline or a new version of it. Idempotent reads (health,
experiment lookup, run status) are retried with backoff, never past a wait's deadline.
Every failure is a one-line :class:`SubmitError` subclass. Host and auth follow ``kfp.Client``:
explicit host, ``KF_PIPELINES_ENDPOINT``, in-cluster defaults, the service-account token at
``KF_PIPELINES_SA_TOKEN_PATH``, ``existing_token`` and ``cookies``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfp_nbsecrets.submit.client import DEFAULT_TIMEOUT, Backoff, connect, create, run_url
from kfp_nbsecrets.submit.compat import (
    BackendVersion,
    SkewIssue,
    apply_version_compat,
    find_backend_version,
    parse_version,
    version_skew,
)
from kfp_nbsecrets.submit.errors import (
    AuthError,
    BackendTimeout,
    ConnectionLost,
    InvalidRequestError,
    NotFoundError,
    RejectedError,
    ServerError,
    SubmitError,
    Unreachable,
    VersionSkewError,
    translate,
)
from kfp_nbsecrets.submit.handle import (
    RunHandle,
    TaskState,
    kube_pod_events,
    secret_problem_from_events,
)
from kfp_nbsecrets.submit.prepare import default_name, find_or_create_experiment, prepare, prepare_options
from kfp_nbsecrets.submit.recurring import RecurringRunHandle, kfp_cron, schedule
from kfp_nbsecrets.submit.resolve import ResolvedName, resolve_secret_names
from kfp_nbsecrets.submit.upload import PipelineUpload, upload


def submit(pipeline: Any, arguments: Mapping[str, Any] | None = None, *, client: Any = None,
           host: str | None = None, namespace: str | None = None, experiment: str | None = None,
           experiment_id: str | None = None, run_name: str | None = None, check: bool = True,
           source: Any = None, backend_version: str | None = None, resolve_names: bool = True,
           legacy_secret_name: bool = False, drop_optional: bool = False, existing_token: str | None = None,
           cookies: str | None = None, ui_host: str | None = None, pipeline_root: str | None = None,
           enable_caching: bool | None = None, service_account: str | None = None,
           timeout: float = DEFAULT_TIMEOUT, backoff: Backoff | None = None,
           pod_events: Any = "auto") -> RunHandle:
    """Check and submit one run; returns its :class:`RunHandle` (nothing is printed).

    Order: connect; the backend version (``backend_version``, else the server's healthz ``tag_name``);
    for backends before 2.5.0, secret names from parameters resolved into a per-run copy of the IR
    (``resolve_names=False``: refused instead); the version-skew guard; the pre-run secret check
    (``check=False`` skips it; problems raise :class:`~kfp_nbsecrets.check.PreRunCheckError`);
    experiment lookup/creation; run creation (sent once, never retried). ``experiment`` defaults to
    ``KF_PIPELINES_DEFAULT_EXPERIMENT_NAME`` or "Default"; ``experiment_id`` names an existing one.
    """
    import kfp_server_api

    prepared = prepare(pipeline, arguments, **prepare_options(locals()))
    client = prepared.client
    run_name = run_name or default_name(prepared.compiled)
    runtime = kfp_server_api.V2beta1RuntimeConfig(parameters=prepared.arguments or None,
                                                  pipeline_root=pipeline_root)
    body = kfp_server_api.V2beta1Run(experiment_id=prepared.experiment_id, display_name=run_name,
                                     description=prepared.description(),
                                     pipeline_spec=prepared.payload(enable_caching), runtime_config=runtime,
                                     service_account=service_account)
    created = create(lambda timeout: client._run_api.run_service_create_run(body, _request_timeout=timeout),
                     client, f"run {run_name!r}",
                     f"the runs of experiment {prepared.experiment_id} (KFP UI, or"
                     f" kfp.Client().list_runs(experiment_id=...))")
    if pod_events == "auto":
        from kfp_nbsecrets import sources

        settings = sources.current_settings()
        pod_events = kube_pod_events(settings.timeout, settings.context, settings.kubeconfig) \
            if namespace else None
    return RunHandle(client, created.run_id, created.display_name or run_name,
                     run_url(client, created.run_id), experiment_id=prepared.experiment_id,
                     namespace=namespace, run=created, backoff=backoff, pod_events=pod_events,
                     backend=prepared.version.describe(), notes=prepared.notes)


__all__ = [
    "AuthError", "BackendTimeout", "BackendVersion", "Backoff", "ConnectionLost", "InvalidRequestError",
    "NotFoundError", "PipelineUpload", "RecurringRunHandle", "RejectedError", "ResolvedName", "RunHandle",
    "ServerError", "SkewIssue", "SubmitError", "TaskState", "Unreachable", "VersionSkewError",
    "apply_version_compat", "connect", "find_backend_version", "find_or_create_experiment", "kfp_cron",
    "kube_pod_events", "parse_version", "resolve_secret_names", "run_url", "schedule",
    "secret_problem_from_events", "submit", "translate", "upload", "version_skew",
]
