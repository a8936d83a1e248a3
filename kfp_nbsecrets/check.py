"""Pre-run check: every secret a run would use, resolved for the run's arguments and verified in a source.

The KFP backend never checks that a secret exists: a missing one leaves the pod in
CreateContainerConfigError (env) or FailedMount (volume) and the run hangs with no reason shown.
:func:`check_run` resolves each secret reference of a compiled pipeline for the actual arguments
(defaults included) -- literal names, pipeline parameters threaded through nested DAGs, loop items
when the loop's list is known before the run -- and verifies it against a secret source (by default
the configured one, usually Kubernetes) in the target namespace. Names that come from task outputs
are reported as resolved at run time. Only names and key names are read, never values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kfp_nbsecrets import ir, rules
from kfp_nbsecrets.errors import ArgumentError, KfpNbSecretsError, did_you_mean, quote
from kfp_nbsecrets.tables import Table

OK = "ok"
ERROR = "error"
MISSING_OPTIONAL = "missing (optional)"
RUNTIME = "resolved at run time"
SKIPPED = "skipped (null name)"
_NO_VALUE = object()


class PreRunCheckError(KfpNbSecretsError):
    """The pre-run check found problems; the message lists each one (names only, never values)."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        problems = result.problems()
        listed = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
        super().__init__(
            f"pre-run secret check failed for pipeline {quote(result.pipeline)} in {result.where}:"
            f" {listed} (skip the check with --no-check / check=False)"
        )


class CheckUnavailable(KfpNbSecretsError):
    """The source could not be asked (unreachable, access denied); the check did not run."""


@dataclass(frozen=True)
class SecretCheck:
    """One secret a task would use in this run: its resolved name and what the check found."""

    task: str
    kind: str
    origin: str
    name: str | None
    keys: tuple[str, ...] = ()
    optional: bool = False
    status: str = OK
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status != ERROR

    def to_json(self) -> dict:
        return {"task": self.task, "kind": self.kind, "origin": self.origin, "name": self.name,
                "keys": list(self.keys), "optional": self.optional, "status": self.status,
                "problems": list(self.problems), "notes": list(self.notes)}


@dataclass
class CheckResult:
    """The outcome of a pre-run check: one :class:`SecretCheck` per secret name; displays as a table."""

    pipeline: str
    where: str
    items: list[SecretCheck] = field(default_factory=list)
    general: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.general and all(item.ok for item in self.items)

    def problems(self) -> list[str]:
        return [*self.general, *(p for item in self.items for p in item.problems)]

    def raise_for_problems(self) -> CheckResult:
        if not self.ok:
            raise PreRunCheckError(self)
        return self

    def to_json(self) -> dict:
        return {"pipeline": self.pipeline, "where": self.where, "ok": self.ok,
                "problems": self.general, "items": [item.to_json() for item in self.items]}

    def table(self) -> Table:
        """The check as a table: one row per secret, the problems of the whole check as notes."""
        verdict = "OK" if self.ok else f"{len(self.problems())} problem(s)"
        rows = [(item.task, item.name if item.name is not None else item.origin,
                 item.kind + (" (optional)" if item.optional else ""), item.status,
                 "; ".join((*item.problems, *item.notes))) for item in self.items]
        return Table(f"Pre-run secret check of {quote(self.pipeline)} in {self.where}: {verdict}",
                     ("TASK", "SECRET", "KIND", "STATUS", "DETAIL"), rows, empty="no secrets are used",
                     notes=self.general, status_column=3)

    def __repr__(self) -> str:
        return repr(self.table())

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return self.table()._repr_mimebundle_(include, exclude)


# ---------------------------------------------------------------------------------------------
# Arguments


def coerce_arguments(pipeline: Any, raw: Mapping[str, str]) -> dict[str, Any]:
    """Typed run arguments from ``NAME=VALUE`` texts, by the declared parameter types.

    Strings stay as written; integers, floats and booleans are parsed; lists and structs are JSON.
    Raises ValueError for an unknown parameter or a value that does not parse.
    """
    model = ir.read_pipeline(pipeline)
    typed: dict[str, Any] = {}
    for name, text in raw.items():
        parameter = model.parameters.get(name)
        if parameter is None:
            hint = did_you_mean(name, model.parameters, cutoff=0.5)
            raise ArgumentError(f"pipeline {quote(model.name)} has no parameter {quote(name)}{hint};"
                             f" its parameters are {sorted(model.parameters)}")
        typed[name] = _coerce(name, parameter.type, text)
    return typed


def _coerce(name: str, kind: str, text: str) -> Any:
    try:
        if kind == "NUMBER_INTEGER":
            return int(text)
        if kind == "NUMBER_DOUBLE":
            return float(text)
        if kind == "BOOLEAN":
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise ValueError(text)
            return lowered == "true"
        if kind in ("LIST", "STRUCT"):
            value = json.loads(text)
            if not isinstance(value, list if kind == "LIST" else dict):
                raise ValueError(text)
            return value
    except ValueError:
        raise ArgumentError(f"argument {name}={quote(text)} is not a valid {kind} value") from None
    return text


# ---------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class Resolved:
    """One name a binding resolves to for a run (or why it has none before the run)."""

    binding: ir.Binding
    name: Any = _NO_VALUE
    origin: str = ""
    status: str = OK
    problem: str | None = None


def resolve_run(pipeline: Any, arguments: Mapping[str, Any] | None = None) -> list[Resolved]:
    """Each env/volume secret name of the pipeline for these arguments (loop bindings give one per item)."""
    model = ir.read_pipeline(pipeline)
    arguments = dict(arguments or {})
    resolved: list[Resolved] = []
    for binding in model.bindings():
        resolved.extend(_resolve_binding(binding, binding.source, model, arguments))
    return resolved


def _parameter_value(model: ir.PipelineModel, arguments: Mapping[str, Any], source: ir.NameSource):
    name = source.parameter or ""
    if name in arguments:
        return arguments[name], f"argument {name}"
    if source.has_default:
        return source.default, f"default of {name}"
    parameter = model.parameters.get(name)
    if parameter is not None and parameter.has_default:
        return parameter.default, f"default of {name}"
    return _NO_VALUE, f"parameter {name}"


def _resolve_binding(binding: ir.Binding, source: ir.NameSource, model: ir.PipelineModel,
                     arguments: Mapping[str, Any]) -> list[Resolved]:
    if source.kind == "literal":
        return [Resolved(binding, source.name, "literal")]
    if source.kind == "parameter":
        value, origin = _parameter_value(model, arguments, source)
        if value is _NO_VALUE:
            return [Resolved(binding, _NO_VALUE, origin, ERROR,
                             f"{binding.task}: pipeline parameter {quote(source.parameter)} names the secret"
                             f" but has no default and no argument; pass --arg {source.parameter}=NAME")]
        return [Resolved(binding, value, origin)]
    if source.kind == "task-output":
        return [Resolved(binding, _NO_VALUE, source.describe(), RUNTIME)]
    if source.kind == "loop-item" and source.items is not None:
        items_source = source.items
        if items_source.kind == "literal":
            raw = items_source.name
            try:
                items = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                items = None
            origin = "loop item"
        elif items_source.kind == "parameter":
            items, origin = _parameter_value(model, arguments, items_source)
            if isinstance(items, str):
                try:
                    items = json.loads(items)
                except ValueError:
                    items = None
            origin = f"loop item of {origin}"
        else:
            return [Resolved(binding, _NO_VALUE, "loop item of " + items_source.describe(), RUNTIME)]
        if not isinstance(items, list):
            return [Resolved(binding, _NO_VALUE, origin, ERROR,
                             f"{binding.task}: the loop's list ({origin}) is not a list of secret names")]
        return [Resolved(binding, item, f"{origin} #{index}") for index, item in enumerate(items)]
    return [Resolved(binding, _NO_VALUE, "unresolved", ERROR,
                     f"{binding.task}: the secret name cannot be resolved: {source.problem}")]


# ---------------------------------------------------------------------------------------------
# Check


def check_run(pipeline: Any, arguments: Mapping[str, Any] | None = None, *, source: Any = None,
              namespace: str | None = None) -> CheckResult:
    """Resolve and verify every secret the run would use; never raises for problems (see ``.ok``).

    ``source``: a :class:`~kfp_nbsecrets.sources.SecretSource` or a kind ("k8s", "local", "memory");
    default: the configured source. Raises :class:`CheckUnavailable` when the source cannot be asked.
    """
    from kfp_nbsecrets import sources

    model = ir.read_pipeline(pipeline)
    arguments = dict(arguments or {})
    secret_source = sources.get_source(source) if not isinstance(source, sources.SecretSource) else source
    namespace = namespace or secret_source.namespace
    where = secret_source.describe()
    if namespace:
        where = f"namespace {quote(namespace)} of {where}"
    result = CheckResult(model.name, where)
    unknown = sorted(set(arguments) - set(model.parameters))
    for name in unknown:
        hint = did_you_mean(name, model.parameters, cutoff=0.5)
        result.general.append(f"argument {quote(name)} is not a parameter of the pipeline{hint}")
    lookup = _Lookup(secret_source, namespace)
    try:
        for resolved in resolve_run(model, arguments):
            result.items.append(_check_one(resolved, lookup))
    except (sources.AccessDenied, sources.SourceUnavailable) as error:
        raise CheckUnavailable(f"cannot run the pre-run secret check: {error}; fix the access or skip"
                               f" the check with --no-check / check=False") from None
    return result


class _Lookup:
    """Secret lookups of one check, with the namespace listed at most once (for close matches)."""

    def __init__(self, source: Any, namespace: str | None) -> None:
        self.source = source
        self.namespace = namespace
        self._names: list[str] | None = None
        self._infos: dict[str, Any] = {}

    def get(self, name: str):
        from kfp_nbsecrets.sources import SecretNotFound

        if name not in self._infos:
            try:
                self._infos[name] = self.source.get(name, self.namespace)
            except SecretNotFound:
                self._infos[name] = None
        return self._infos[name]

    def close_matches(self, name: str) -> str:
        """`` (did you mean ...?)`` among the namespace's secrets, listed once per check."""
        if self._names is None:
            self._names = [info.name for info in self.source.list_secrets(self.namespace)]
        return did_you_mean(name, self._names)


def _check_one(resolved: Resolved, lookup: _Lookup) -> SecretCheck:
    binding = resolved.binding
    keys = tuple(key for key, _ in binding.env)
    base = dict(task=binding.task, kind=binding.kind, origin=resolved.origin, keys=keys,
                optional=binding.optional)
    if resolved.status != OK:
        problems = (resolved.problem,) if resolved.problem else ()
        return SecretCheck(name=None, status=resolved.status, problems=problems, **base)
    name = resolved.name
    if name is None:
        return SecretCheck(name=None, status=SKIPPED, notes=(
            f"{resolved.origin} is null: the backend skips this secret entry",), **base)
    if not isinstance(name, str) or not name:
        return SecretCheck(name=None, status=ERROR, problems=(
            f"{binding.task}: the secret name from {resolved.origin} is {quote(name)}; it must be a non-empty"
            f" string or the task fails",), **base)
    problem = rules.secret_name_problem(name, volume=binding.kind == "volume")
    if problem and binding.kind == "image-pull":
        return SecretCheck(name=name, status=ERROR, problems=(
            f"{binding.task}: image pull {problem.split('; ')[0]}: no Secret can have this name, so the"
            f" kubelet would pull without these credentials",), **base)
    if problem:
        return SecretCheck(name=name, status=ERROR, problems=(f"{binding.task}: {problem}",), **base)
    info = lookup.get(name)
    if info is None:
        hint = lookup.close_matches(name)
        if binding.optional:
            return SecretCheck(name=name, status=MISSING_OPTIONAL, notes=(
                f"secret {quote(name)} does not exist; the binding is optional, the task runs without"
                f" it{hint}",),
                **base)
        return SecretCheck(name=name, status=ERROR, problems=(
            f"{binding.task}: secret {quote(name)} ({resolved.origin}) not found in"
            f" {_ns(lookup)}{hint}",), **base)
    if info.keys is None:  # e.g. RBAC allows listing secrets but not reading one: existence is all we know
        notes = (f"secret {quote(name)} exists; its key(s) {list(keys)} could not be verified:"
                 f" {info.keys_unavailable or 'key names not read'}",) if keys else ()
        return SecretCheck(name=name, status=OK, notes=notes, **base)
    if binding.kind == "image-pull" and (problem := _pull_secret_problem(info)):
        return SecretCheck(name=name, status=ERROR, problems=(f"{binding.task}: {problem}",), **base)
    missing = [key for key in keys if key not in info.keys]
    if missing:
        if binding.optional:
            return SecretCheck(name=name, status=MISSING_OPTIONAL, notes=(
                f"secret {quote(name)} has no key(s) {missing}; optional, the env vars stay unset",), **base)
        return SecretCheck(name=name, status=ERROR, problems=(
            f"{binding.task}: secret {quote(name)} has no key(s) {missing}; it has"
            f" {list(info.keys)}",), **base)
    return SecretCheck(name=name, status=OK, **base)


def _pull_secret_problem(info: Any) -> str | None:
    """Why the kubelet would not use secret ``info`` as an image pull secret."""
    key = rules.PULL_SECRET_TYPES.get(info.type)
    if key is None:
        return (f"image pull secret {quote(info.name)} is of type {quote(info.type)}; the kubelet reads"
                f" registry credentials only from a kubernetes.io/dockerconfigjson secret (kubectl create"
                f" secret docker-registry)")
    if key not in info.keys:
        return f"image pull secret {quote(info.name)} ({info.type}) has no {quote(key)} key"
    return None


def _ns(lookup: _Lookup) -> str:
    return f"namespace {quote(lookup.namespace)}" if lookup.namespace else lookup.source.describe()


__all__ = ["CheckResult", "CheckUnavailable", "SecretCheck", "PreRunCheckError", "Resolved", "check_run",
           "coerce_arguments", "resolve_run"]
