"""What a run and a recurring run share before creation: connection, backend version, the names
resolved for old backends, the version-skew guard, the pre-run check and the experiment."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kfp_nbsecrets import ir
from kfp_nbsecrets.submit.client import Backoff, connect, create, read
from kfp_nbsecrets.submit.compat import BackendVersion, apply_version_compat, find_backend_version
from kfp_nbsecrets.submit.resolve import (
    DESCRIPTION_LIMIT,
    ResolvedName,
    describe,
    needs_resolution,
    resolve_secret_names,
)


@dataclass
class Prepared:
    """A pipeline ready to send: the client, the (per-run) IR, the version it was checked against."""

    client: Any
    compiled: ir.CompiledPipeline
    version: BackendVersion
    arguments: dict
    resolved: list[ResolvedName] = field(default_factory=list)
    experiment_id: str | None = None

    @property
    def notes(self) -> list[str]:
        notes = [self.version.note] if self.version.note else []
        if self.resolved:
            notes.append(describe(self.resolved, self.version.text))
        return notes

    def description(self) -> str | None:
        """The run description recording the names resolved at submission (None when none were)."""
        return describe(self.resolved, self.version.text, DESCRIPTION_LIMIT) if self.resolved else None

    def payload(self, enable_caching: bool | None = None) -> dict:
        """The ``pipeline_spec`` of a run: the PipelineSpec, with the PlatformSpec when it has content."""
        compiled = self.compiled
        platforms = compiled.platform_spec.get("platforms", {})
        if any(platforms.get(name) for name in platforms):
            payload = {"pipeline_spec": compiled.pipeline_spec, "platform_spec": compiled.platform_spec}
        else:
            payload = compiled.pipeline_spec
        if enable_caching is not None:
            spec = payload.get("pipeline_spec", payload)
            for component in [spec.get("root", {}), *spec.get("components", {}).values()]:
                for task in component.get("dag", {}).get("tasks", {}).values():
                    task.setdefault("cachingOptions", {})["enableCache"] = enable_caching
        return payload


PREPARE_OPTIONS = frozenset({
    "client", "host", "namespace", "experiment", "experiment_id", "check", "source", "backend_version",
    "resolve_names", "legacy_secret_name", "drop_optional", "existing_token", "cookies", "ui_host", "timeout",
    "backoff"})


def prepare_options(given: Mapping[str, Any]) -> dict[str, Any]:
    """The options of :func:`prepare` among the keyword arguments ``given`` to a caller."""
    return {name: value for name, value in given.items() if name in PREPARE_OPTIONS}


def prepare(pipeline: Any, arguments: Mapping[str, Any] | None, *, client: Any = None,
            host: str | None = None,
            namespace: str | None = None, experiment: str | None = None, experiment_id: str | None = None,
            check: bool = True, source: Any = None, backend_version: str | None = None,
            resolve_names: bool = True, legacy_secret_name: bool = False, drop_optional: bool = False,
            existing_token: str | None = None, cookies: str | None = None, ui_host: str | None = None,
            timeout: float, backoff: Backoff | None = None) -> Prepared:
    """Connect, learn the backend version, resolve / guard, check, and find the experiment.

    Nothing is created but the experiment (when missing); every read is retried with backoff.
    """
    compiled = ir.load(pipeline)
    arguments = dict(arguments or {})
    if client is None:
        client = connect(host, namespace=namespace, existing_token=existing_token, cookies=cookies,
                         ui_host=ui_host, timeout=timeout, backoff=backoff)
    version = find_backend_version(client, backend_version)
    resolved: list[ResolvedName] = []
    if resolve_names and needs_resolution(version.release):
        compiled, resolved = resolve_secret_names(compiled, arguments, version.text)
    compiled = apply_version_compat(compiled, version.guard, legacy_secret_name=legacy_secret_name,
                                    drop_optional=drop_optional)
    if check:
        from kfp_nbsecrets.check import check_run

        check_run(compiled, arguments, source=source, namespace=namespace).raise_for_problems()
    if experiment_id:
        read(client, lambda timeout: client._experiment_api.experiment_service_get_experiment(
            experiment_id=experiment_id, _request_timeout=timeout), f"experiment {experiment_id!r}")
    else:
        name = experiment or os.environ.get("KF_PIPELINES_DEFAULT_EXPERIMENT_NAME") or "Default"
        experiment_id = find_or_create_experiment(client, name, namespace)
    return Prepared(client, compiled, version, arguments, resolved, experiment_id)


def find_or_create_experiment(client: Any, name: str, namespace: str | None) -> str:
    """The id of experiment ``name`` in ``namespace``, created when missing (lookup retried, creation not)."""
    import kfp_server_api

    predicate = {"operation": "EQUALS", "key": "display_name", "stringValue": name}
    filter_ = json.dumps({"predicates": [predicate]})
    kwargs = {"namespace": namespace} if namespace else {}
    found = read(client, lambda timeout: client._experiment_api.experiment_service_list_experiments(
        filter=filter_, _request_timeout=timeout, **kwargs), f"looking up experiment {name!r}")
    experiments = found.experiments or []
    if experiments:
        return experiments[0].experiment_id
    body = kfp_server_api.V2beta1Experiment(display_name=name, namespace=namespace or None)
    created = create(lambda timeout: client._experiment_api.experiment_service_create_experiment(
        body, _request_timeout=timeout), client, f"experiment {name!r}", "the KFP UI's experiments")
    return created.experiment_id


def default_name(compiled: ir.CompiledPipeline) -> str:
    return f"{compiled.name} {time.strftime('%Y-%m-%d %H-%M-%S')}"
