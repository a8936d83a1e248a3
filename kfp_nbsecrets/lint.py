"""Lint the secret bindings and pod config of a compiled pipeline, from any source (also YAML compiled
elsewhere).

Every check of :mod:`kfp_nbsecrets.attach` that the IR decides (the same
:func:`kfp_nbsecrets.validate.config_problems` for env vars, mounts, volumes and pull secrets of
every kind), plus IR-only hazards. Errors make the run fail or hang on the cluster; warnings are
what Kubernetes accepts only in some versions or with a surprising result, and hazards (stale
cache, deprecated fields). docs/kubernetes.md cites the source of each rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kfp_nbsecrets import ir, refs, rules, validate
from kfp_nbsecrets.errors import quote

ERROR = "error"
WARNING = "warning"


# code -> severity, for the documentation and the tests
CODES = {
    "no-name": ERROR,
    "template-literal": ERROR,
    "invalid-name": ERROR,
    "missing-input": ERROR,
    "missing-producer": ERROR,
    "missing-output": ERROR,
    "self-output": ERROR,
    "non-string-name": ERROR,
    "unresolved": ERROR,
    "empty-env": ERROR,
    "invalid-key": ERROR,
    "invalid-env": ERROR,
    "env-clash": ERROR,
    "invalid-mount": ERROR,
    "volume-clash": ERROR,
    "env-name-version": WARNING,
    "env-override": WARNING,
    "mount-path": WARNING,
    "mount-clash": WARNING,
    "invalid-pull-secret": WARNING,
    "deprecated-secret-name": WARNING,
    "invalid-default": WARNING,
    "cache-hazard": WARNING,
}


@dataclass(frozen=True)
class Finding:
    """One problem: ``severity`` (error/warning), ``code``, ``task`` path, ``message`` and ``fix``."""

    severity: str
    code: str
    task: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.task}: {self.message}; {self.fix} [{self.code}]"


def lint(source: Any) -> list[Finding]:
    """All findings of a pipeline from any source, or of a PipelineModel, sorted by task path."""
    model = ir.read_pipeline(source)
    findings: list[Finding] = []
    for task in model.tasks:
        if task.is_container:
            findings.extend(_task_findings(model.compiled, task))
    return findings


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.severity == ERROR for finding in findings)


def _finding(code: str, task: ir.Task, message: str, fix: str) -> Finding:
    return Finding(CODES[code], code, task.path, message, fix)


def _from_rule(code: str, task: ir.Task, problem: str) -> Finding:
    """A finding from a rules.*_problem line ('what is wrong; how to fix it')."""
    message, _, fix = problem.partition("; ")
    return _finding(code, task, message, fix or "fix the value")


def _task_findings(compiled: ir.CompiledPipeline, task: ir.Task) -> list[Finding]:
    config = compiled.platform_config(task.executor)
    found: list[Finding] = []
    for binding in task.secret_bindings():
        found.extend(_name_findings(compiled, task, binding))
        if binding.kind == "env" and not binding.env:
            found.append(_finding("empty-env", task, "a secretAsEnv entry maps no secret key to an env var",
                                  "map at least one key, e.g. {'password': 'DB_PASSWORD'}"))
    container = compiled.executor_spec(task.executor).get("container", {})
    container_env = [item.get("name", "") for item in container.get("env", [])]
    found.extend(_finding(problem.code, task, problem.message, problem.fix)
                 for problem in validate.config_problems(config, container_env))
    return found


def _name_findings(compiled: ir.CompiledPipeline, task: ir.Task, binding: ir.Binding):
    reference, source, volume = binding.reference, binding.source, binding.kind == "volume"
    parameter = binding.entry.name_parameter
    constant = (parameter or {}).get("runtimeValue", {}).get("constant")
    if reference is None and constant is not None:
        yield _finding("non-string-name", task, f"secret name {quote(constant)} is not a string",
                       "set the secret name to a string")
        return
    if reference is None:
        yield _finding("no-name", task, f"a {binding.kind} secret entry names no secret",
                       "set secretNameParameter, e.g. re-attach it with kfp_nbsecrets.bind")
        return
    if parameter is None:
        yield _finding("deprecated-secret-name", task,
                       f"secret {quote(binding.entry.raw['secretName'])} is named only by the deprecated"
                       f" 'secretName' field",
                       "recompile with a current kfp-kubernetes, which also writes secretNameParameter")
    if isinstance(reference, refs.Literal):
        local = list(_literal_findings(task, reference.name, volume))
    elif isinstance(reference, refs.PipelineParam):
        local = list(_input_findings(task, reference.name))
    else:
        local = list(_output_findings(compiled, task, reference))
    yield from local
    if source.kind == "unresolved" and not local:
        yield _finding("unresolved", task, f"secret name {reference} cannot be resolved: {source.problem}",
                       "pass the value down to this task, or bind the secret again with kfp_nbsecrets.bind")
    if source.kind == "parameter" and isinstance(source.default, str) \
            and (problem := rules.secret_name_problem(source.default, volume=volume)):
        parameter = quote(source.parameter)
        yield _finding("invalid-default", task,
                       f"default of parameter {parameter} is unusable: {problem.split('; ')[0]}",
                       f"give {parameter} a valid default or always pass it when starting a run")
    if source.kind != "literal" and task.caching:
        yield _finding("cache-hazard", task,
                       f"secret name from {source.describe()} on a cached task: the cache key ignores"
                       f" secret names, so a run with another secret may reuse this task's results",
                       "turn caching off (task.set_caching_options(False)); kfp_nbsecrets.bind does it")


def _literal_findings(task: ir.Task, name: str, volume: bool):
    if refs.is_template(name):
        what = "a pipeline channel placeholder (an f-string or str() of a parameter)" \
            if refs.CHANNEL_PLACEHOLDER in name else "a template"
        yield _finding("template-literal", task,
                       f"secret name {quote(name)} contains {what} but was compiled as a literal name",
                       "pass the parameter or task output itself as the secret name, or use"
                       " kfp_nbsecrets.use_secret_as_env/volume, which compile templates")
    elif problem := rules.secret_name_problem(name, volume=volume):
        yield _from_rule("invalid-name", task, problem)


def _input_findings(task: ir.Task, name: str):
    level = task.levels[-1]
    declared = ir.input_type(level, name)
    if declared is None:
        yield _finding("missing-input", task,
                       f"secret name comes from input {quote(name)}, which {ir.dag_name(level)} does"
                       f" not have",
                       "add the parameter to the pipeline, or bind the secret again with"
                       " kfp_nbsecrets.bind, which threads parameters through nested DAGs")
    elif declared != "STRING":
        yield _finding("non-string-name", task,
                       f"secret name comes from input {quote(name)} of type {declared}",
                       "declare the parameter as str")


def _output_findings(compiled: ir.CompiledPipeline, task: ir.Task, reference: refs.TaskOutput):
    level = task.levels[-1]
    if reference.task == task.name:
        yield _finding("self-output", task, "the task takes its secret name from its own output",
                       "produce the name in an upstream task")
        return
    if reference.task not in level.spec.get("dag", {}).get("tasks", {}):
        yield _finding("missing-producer", task,
                       f"secret name comes from task {quote(reference.task)}, not in {ir.dag_name(level)}",
                       "take the name from a task of the same DAG")
        return
    declared = ir.output_type(compiled, level, reference.task, reference.output)
    if declared is None:
        yield _finding("missing-output", task,
                       f"secret name comes from output {quote(reference.output)} of task"
                       f" {quote(reference.task)},"
                       f" which has no such output parameter",
                       "use an existing string output of that task")
    elif declared != "STRING":
        yield _finding("non-string-name", task,
                       f"secret name comes from output {quote(reference.output)} of task"
                       f" {quote(reference.task)},"
                       f" of type {declared}", "return the name as str")
