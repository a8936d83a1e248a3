"""Secret names resolved at submission, for KFP backends before 2.5.0.

Those backends take a secret's name only as the literal ``secretName`` of an entry and reject
``secretNameParameter`` ("unknown field", KFP #11935). A name that comes from a pipeline parameter
-- also threaded into loops, conditions, exit handlers and sub-pipelines -- is known when a run is
created: the run's argument, or the default. :func:`resolve_secret_names` writes it as a literal
into a per-run copy of the IR. Names known only while the run runs (task outputs, loop items over
different secrets) are refused, naming the task and what would work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfp_nbsecrets import ir, rules
from kfp_nbsecrets.check import OK, RUNTIME, resolve_run
from kfp_nbsecrets.submit.compat import SECRET_NAME_PARAMETER_SINCE, secret_entries
from kfp_nbsecrets.submit.errors import VersionSkewError

# A run's and a recurring run's description is a VARCHAR(255) column up to KFP 2.14 (jinzhu/gorm v1
# default size for a string without one: backend/src/apiserver/model/run.go, job.go); longer fails.
DESCRIPTION_LIMIT = 255


@dataclass(frozen=True)
class ResolvedName:
    """One secret entry sent as a literal name: the task, where the name came from, and the name."""

    task: str
    kind: str
    origin: str
    name: str

    def describe(self) -> str:
        # ASCII "->", not refs.ARROW: this goes into the run's description, a column that MySQL 5.7
        # deployments of KFP create in the server's default charset (latin1), where "→" is rejected.
        return f"{self.task} ({self.kind}): {self.origin} -> {self.name!r}"


def needs_resolution(version: tuple[int, int, int] | None) -> bool:
    """Whether a backend of ``version`` takes literal secret names only (unknown version: no)."""
    return version is not None and version < SECRET_NAME_PARAMETER_SINCE


def resolve_secret_names(pipeline: Any, arguments: Mapping[str, Any] | None, backend: str, *,
                         literal_only: bool = False) -> tuple[ir.CompiledPipeline, list[ResolvedName]]:
    """A copy of the pipeline whose secret entries name their secret as a literal ``secretName``.

    Names come from the run's ``arguments`` (defaults filled in); with ``literal_only`` (a pipeline
    uploaded for later runs, whose arguments are not known yet) only literal names are taken.
    Raises :class:`VersionSkewError` listing every entry that cannot be resolved, or whose name
    would be refused by Kubernetes. Returns the copy and the names taken from parameters.
    """
    compiled = ir.load(pipeline)
    model = ir.build_model(compiled)
    executor_of = {task.path: task.executor for task in model.tasks}
    found: dict[tuple[str, str, int], list] = {}
    for resolved in resolve_run(model, arguments or {}):
        binding = resolved.binding
        if binding.kind == "image-pull":  # handled per entry below
            continue
        key = (executor_of[binding.task] or "", binding.kind, binding.entry.index)
        found.setdefault(key, []).append(resolved)
    problems: list[str] = []
    names: list[ResolvedName] = []
    for label, kind, index, entry in secret_entries(compiled):
        if "secretNameParameter" not in entry:
            continue
        if kind == "image-pull":
            problem = _image_pull(label, entry, backend)
            if problem:
                problems.append(problem)
            continue
        group = found.get((label, kind, index), [])
        task = group[0].binding.task if group else label
        if not group:
            problems.append(f"{label}: no task of the pipeline uses this executor's secret entry")
            continue
        if literal_only and any(r.origin != "literal" for r in group):
            problems.append(f"task {task}: the secret name comes from {group[0].binding.source.describe()},"
                            f" which runs started later (e.g. from the KFP UI) set; backend {backend}"
                            f" (< 2.5.0) takes literal names only: use a literal name or upgrade the backend"
                            f" to 2.5.0 or later")
            continue
        problem = _group_problem(task, kind, group, backend)
        if problem:
            problems.append(problem)
            continue
        name = group[0].name
        del entry["secretNameParameter"]
        entry["secretName"] = name
        origin = group[0].origin
        if origin.startswith("loop item") and len(group) > 1:
            origin = f"{origin.rsplit(' #', 1)[0]} (all {len(group)} items)"
        if origin != "literal":
            names.append(ResolvedName(task, kind, origin, name))
    if problems:
        raise VersionSkewError(f"cannot send {compiled.name!r} to backend {backend} (< 2.5.0, literal secret"
                               f" names only): " + "; ".join(problems))
    return compiled, names


def _image_pull(label: str, entry: dict, backend: str) -> str | None:
    """Send a literal image pull secret as ``secretName`` (the pre-run check does not look at these)."""
    constant = (entry["secretNameParameter"].get("runtimeValue") or {}).get("constant")
    if not isinstance(constant, str) or not constant:
        return (f"{label}: an image pull secret named by a parameter or task output; backend {backend} takes"
                f" literal image pull secret names only: use a literal name or upgrade the backend to 2.5.0"
                f" or later")
    del entry["secretNameParameter"]
    entry["secretName"] = constant
    return None


def _group_problem(task: str, kind: str, group: list, backend: str) -> str | None:
    """Why the names of one entry (one per loop item) cannot be sent as one literal, or None."""
    later = [r for r in group if r.status == RUNTIME]
    if later:
        return (f"task {task}: the secret name comes from {later[0].origin}, known only while the run"
                f" runs; backend {backend} takes a name known at submission: pass it as a pipeline"
                f" parameter (--arg), use a literal name, or upgrade the backend to 2.5.0 or later")
    failed = [r for r in group if r.status != OK]
    if failed:
        return failed[0].problem
    distinct = sorted({repr(r.name) for r in group})
    if len(distinct) > 1:
        origin = group[0].origin.rsplit(" #", 1)[0]
        if origin.startswith("loop item"):
            what = f"the loop's items ({origin.removeprefix('loop item of ')})"
        else:
            what = f"{origin} (in each of the tasks sharing this executor)"
        return (f"task {task}: {what} name different secrets ({', '.join(distinct)}); backend {backend}"
                f" takes one literal name per task: bind each secret to its own task, pass one name as a"
                f" pipeline parameter, or upgrade the backend to 2.5.0 or later")
    name = group[0].name
    if name is None:
        return (f"task {task}: {group[0].origin} is null, which backend {backend} cannot skip: pass a"
                f" secret name (--arg)")
    problem = rules.secret_name_problem(name, volume=kind == "volume") if isinstance(name, str) and name \
        else "the name must be a non-empty string"
    if problem:
        return f"task {task}: {group[0].origin} gives {name!r} as the secret name: {problem}"
    return None


def describe(names: list[ResolvedName], backend: str, limit: int | None = None) -> str:
    """What was resolved at submission, cut to ``limit`` characters (saying how many were left out)."""
    head = f"kfp-nbsecrets resolved secret names at submission for backend {backend} (< 2.5.0): "
    text = head + "; ".join(name.describe() for name in names)
    if limit is None or len(text) <= limit:
        return text
    for shown in range(len(names) - 1, -1, -1):
        listed = [name.describe() for name in names[:shown]]
        cut = head + "; ".join([*listed, f"and {len(names) - shown} more"])
        if len(cut) <= limit:
            return cut
    return text[: limit - 3] + "..."
