"""The version-skew guard: secret features an older KFP backend rejects, refused or rewritten on request."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kfp_nbsecrets import entries, ir
from kfp_nbsecrets.errors import ConfigurationError
from kfp_nbsecrets.submit.errors import VersionSkewError

SECRET_NAME_PARAMETER_SINCE = (2, 5, 0)
OPTIONAL_ENV_SINCE = (2, 15, 0)


@dataclass(frozen=True)
class SkewIssue:
    """One secret entry the configured backend would reject."""

    executor: str
    kind: str
    feature: str
    fixable: bool
    message: str


@dataclass(frozen=True)
class BackendVersion:
    """The backend version the guard uses, as configured or as the server reports it.

    ``release`` is None when the version is unknown or not a release (a dev build): no guard.
    """

    text: str
    source: str
    release: tuple[int, int, int] | None
    note: str | None = None

    @property
    def guard(self) -> str | None:
        """The version text for the guard functions, None for no guard."""
        return self.text if self.release is not None else None

    def describe(self) -> str:
        return f"{self.text} ({self.source})"


_RELEASE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
HEALTHZ_APIS = ("v1beta1", "v2beta1")


def find_backend_version(client: Any, configured: str | None = None, *,
                         deadline: float | None = None) -> BackendVersion:
    """``configured`` (e.g. ``backend_version``) when set, else the release the server reports.

    A health check the server refuses (401/403/4xx, e.g. a proxy in front of it) leaves the version
    unknown, with a note; a server that is down or failing raises, as any other read.
    """
    from kfp_nbsecrets.submit.errors import AuthError, RejectedError

    if configured:
        return BackendVersion(configured, "configured", parse_version(configured))
    try:
        tag = detect_backend_version(client, deadline=deadline)
    except (AuthError, RejectedError) as error:
        tag, what = "unknown", f"refused the health check ({error})"
    else:
        what = "reports no version" if tag in ("", "unknown") else f"reports {tag!r}, not a release"
    match = _RELEASE.fullmatch(tag.strip())
    if match:
        return BackendVersion(tag, "healthz", (int(match[1]), int(match[2]), int(match[3])))
    return BackendVersion(tag or "unknown", "healthz", None,
                          f"the KFP API {what} (healthz tag_name): version-skew guard off; set"
                          f" backend_version (%config KfpSecretMagics.backend_version) to turn it on")


def detect_backend_version(client: Any, *, deadline: float | None = None) -> str:
    """The ``tag_name`` of the KFP API server's healthz answer ('unknown' when it has none).

    Every release writes it on ``/apis/v1beta1/healthz`` and ``/apis/v2beta1/healthz`` (which the
    official v2beta1 spec does not document): backend/src/apiserver/main.go, 2.2.0 to 2.17. The
    answer the client read when it was made is used when it has one.
    """
    from kfp_nbsecrets.submit.client import healthz
    from kfp_nbsecrets.submit.errors import NotFoundError

    cached = getattr(client, "_nbsecrets_healthz", {})
    for api in sorted(HEALTHZ_APIS, key=lambda name: name not in cached):
        try:
            answer = cached.get(api) or healthz(client, api, deadline=deadline)
        except NotFoundError:
            continue
        tag = answer.get("tag_name")
        if isinstance(tag, str) and tag:
            return tag
    return "unknown"


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+.].*)?\s*", str(text))
    if not match:
        raise ConfigurationError(f"backend version {text!r} is not like '2.14.3';"
                                 f" set it as MAJOR.MINOR.PATCH")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def secret_entries(compiled: ir.CompiledPipeline):
    """``(executor label, kind, index, entry)`` of every env, volume and image pull secret entry (all
    three take ``secretNameParameter`` from 2.5.0: kubernetes_executor_config.proto)."""
    for label, config in sorted(entries.executor_configs(compiled.platform_spec).items()):
        for kind, key in entries.ALL_FIELDS.items():
            for index, entry in enumerate(config.get(key) or []):
                yield label, kind, index, entry


def version_skew(pipeline: Any, backend_version: str | None) -> list[SkewIssue]:
    """The secret entries a backend of ``backend_version`` rejects (none when the version is not set)."""
    if not backend_version:
        return []
    version = parse_version(backend_version)
    compiled = pipeline if isinstance(pipeline, ir.CompiledPipeline) else ir.load(pipeline)
    issues = []
    for label, kind, _index, entry in secret_entries(compiled):
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
                           f" use a literal secret name, or let a parameter's name be resolved at"
                           f" submission (resolve_names=True, the default; magic: without --no-resolve)")
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
    compiled = ir.load(pipeline)
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
    for _label, kind, _index, entry in secret_entries(compiled):
        if "secretNameParameter" in entry and version < SECRET_NAME_PARAMETER_SINCE:
            entry["secretName"] = entry.pop("secretNameParameter")["runtimeValue"]["constant"]
        if kind == "env" and "optional" in entry and version < OPTIONAL_ENV_SINCE:
            entry.pop("optional")
    return compiled
