"""Pipeline uploads: a pipeline (with its secret bindings) as a new KFP pipeline or a new version of one,
so teammates start runs from the KFP UI and set the secret's parameter there."""

from __future__ import annotations

import html
import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

from kfp_nbsecrets import ir
from kfp_nbsecrets.submit.client import DEFAULT_TIMEOUT, Backoff, connect, create, read, ui_link
from kfp_nbsecrets.submit.compat import apply_version_compat, find_backend_version
from kfp_nbsecrets.submit.errors import InvalidRequestError
from kfp_nbsecrets.submit.handle import about_html, about_lines
from kfp_nbsecrets.submit.resolve import needs_resolution, resolve_secret_names

PIPELINE_PATH = "/#/pipelines/details/"


@dataclass
class PipelineUpload:
    """An uploaded pipeline or pipeline version, with its KFP UI link."""

    pipeline_id: str
    name: str
    version_id: str | None
    version: str | None
    url: str
    backend: str | None = None
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        what = f"pipeline {self.name!r}"
        if self.version:
            what = f"version {self.version!r} of {what}"
        lines = [f"Uploaded {what} ({self.version_id or self.pipeline_id})", f"  {self.url}"]
        return "\n".join(lines + about_lines(self.backend, self.notes))

    def _repr_html_(self) -> str:
        esc = html.escape
        title = repr(self).splitlines()[0]
        return (f"<div class='kfp-nbsecrets-run'><b>{esc(title)}</b> <a href='{esc(self.url, quote=True)}'"
                f" target='_blank' rel='noopener'>open in KFP UI</a>{about_html(self.backend, self.notes)}"
                f"</div>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}


def upload(pipeline: Any, name: str | None = None, *, version: str | None = None,
           description: str | None = None, client: Any = None, host: str | None = None,
           namespace: str | None = None, backend_version: str | None = None, drop_optional: bool = False,
           existing_token: str | None = None, cookies: str | None = None, ui_host: str | None = None,
           timeout: float = DEFAULT_TIMEOUT, backoff: Backoff | None = None) -> PipelineUpload:
    """Upload ``pipeline`` as pipeline ``name`` (default: the pipeline's name), or with ``version`` as a
    new version of the existing pipeline ``name``; returns the upload with its link.

    The version-skew guard runs against the backend's version; a backend before 2.5.0 takes literal
    secret names only, and the arguments of later runs are not known now, so a name from a parameter
    is refused there. ``namespace``: a namespaced pipeline (multi-user KFP); default: shared.
    The upload is sent once, never retried.
    """
    compiled = ir.load(pipeline)
    name = name or compiled.name
    if client is None:
        client = connect(host, namespace=namespace, existing_token=existing_token, cookies=cookies,
                         ui_host=ui_host, timeout=timeout, backoff=backoff)
    found = find_backend_version(client, backend_version)
    if needs_resolution(found.release):
        compiled, _ = resolve_secret_names(compiled, None, found.text, literal_only=True)
    compiled = apply_version_compat(compiled, found.guard, drop_optional=drop_optional)
    pipeline_id = find_pipeline(client, name)
    if version and pipeline_id is None:
        raise InvalidRequestError(f"pipeline {name!r} does not exist yet, so it has no versions: upload it"
                                  f" first without --version / version= (KFP names its first version"
                                  f" {name!r})")
    if not version and pipeline_id is not None:
        raise InvalidRequestError(f"pipeline {name!r} exists already ({pipeline_id}): add a new version of it"
                                  f" with --version V / version='V'")
    with tempfile.TemporaryDirectory(prefix="kfp-nbsecrets-upload-") as directory:
        path = os.path.join(directory, "pipeline.yaml")
        compiled.write(path)
        api = client._upload_api
        if version:
            extra = {"description": description} if description else {}
            made = create(lambda timeout: api.upload_pipeline_version(
                path, name=version, pipelineid=pipeline_id, _request_timeout=timeout, **extra), client,
                f"version {version!r} of pipeline {name!r}", "the pipeline's versions in the KFP UI")
            url = ui_link(client, f"{PIPELINE_PATH}{pipeline_id}/version/{made.pipeline_version_id}")
            return PipelineUpload(pipeline_id, name, made.pipeline_version_id, version, url, found.describe(),
                                  [found.note] if found.note else [])
        extra = {key: value for key, value in (("description", description), ("namespace", namespace))
                 if value}
        made = create(lambda timeout: api.upload_pipeline(path, name=name, _request_timeout=timeout, **extra),
                      client, f"pipeline {name!r}", "the KFP UI's pipelines")
    url = ui_link(client, PIPELINE_PATH + made.pipeline_id)
    return PipelineUpload(made.pipeline_id, name, None, None, url,
                          found.describe(), [found.note] if found.note else [])


def find_pipeline(client: Any, name: str) -> str | None:
    """The id of the pipeline named ``name``, None when there is none (a read, retried)."""
    predicate = {"operation": "EQUALS", "key": "display_name", "stringValue": name}
    found = read(client, lambda timeout: client._pipelines_api.pipeline_service_list_pipelines(
        filter=json.dumps({"predicates": [predicate]}), _request_timeout=timeout),
        f"looking up pipeline {name!r}")
    pipelines = found.pipelines or []
    if len(pipelines) > 1:
        raise InvalidRequestError(f"{len(pipelines)} pipelines are named {name!r}; name one that is unique")
    return pipelines[0].pipeline_id if pipelines else None
