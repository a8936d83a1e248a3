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

import datetime
import os
from collections.abc import Mapping
from typing import Any

from kfp_nbsecrets import ir
from kfp_nbsecrets.submit.client import DEFAULT_TIMEOUT, Backoff, _read, connect, run_url
from kfp_nbsecrets.submit.compat import SkewIssue, apply_version_compat, parse_version, version_skew
from kfp_nbsecrets.submit.errors import (
    AuthError,
    BackendTimeout,
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
        from kfp_nbsecrets import sources

        settings = sources.current_settings()
        pod_events = kube_pod_events(settings.timeout, settings.context, settings.kubeconfig) \
            if namespace else None
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
