"""Bind secrets to a pipeline after it is defined (compiled IR in, compiled IR out).

:func:`bind` applies the validation of :mod:`kfp_nbsecrets.attach` to the IR, threads parameters
and task outputs through every enclosing DAG as the KFP compiler does, gives the task its own
component and executor when it shares them, and changes nothing when it raises.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping
from typing import Any

from kfp_nbsecrets import entries, ir, refs, rules, validate
from kfp_nbsecrets.errors import (
    ChannelError,
    InvalidSecretNameError,
    NotATaskError,
    SecretBindingError,
    TemplateError,
    did_you_mean,
    quote,
)


def bind(
    pipeline: Any,
    task: Any,
    secret: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    mount_path: str | None = None,
    image_pull: bool = False,
    optional: bool = False,
    param: str | None = None,
    default: str | None = None,
    keep_cache: bool = False,
) -> Any:
    """Bind a Secret to one task of a defined or compiled pipeline: as env vars (``env``), a mounted
    volume (``mount_path``) or an image pull secret of the task's pod (``image_pull=True``).

    ``task`` is a task path (``'exit-handler-1/for-loop-2/train'``), a task name that is unique in
    the pipeline, or a PipelineTask. ``secret`` is a literal name, ``'{{PARAM}}'`` (an input of an
    enclosing DAG or of the pipeline) or ``'{{tasks.TASK.OUTPUT}}'``. With ``param``, a string
    pipeline parameter of that name (default ``default``, else ``secret``) is added and used.
    A parameterized name turns the task's caching off unless ``keep_cache`` (an image pull secret
    does not change what a task computes, so it keeps the task's caching).

    A pipeline function is changed in place and returned; YAML text or a YAML path gives the new
    YAML text; dicts or a CompiledPipeline give a new CompiledPipeline.
    """
    compiled = ir.load(pipeline)
    kind = _checked_kind(env, mount_path, image_pull)
    added = _bind(compiled, task, secret, kind, env, mount_path, optional, param, default, keep_cache)
    return _result(pipeline, compiled, added)


def unbind(pipeline: Any, task: Any, secret: str | None = None) -> Any:
    """Remove the secrets of ``task``: env, volume and image pull (only those named ``secret``, when given).

    Parameters that were added for them stay. Returns like :func:`bind`.
    """
    compiled = ir.load(pipeline)
    target = locate(ir.build_model(compiled), task)
    doomed = [b for b in target.bindings if secret is None or _matches(b, secret)]
    if secret is not None and not doomed:
        bound = ", ".join(sorted({str(b.reference) for b in target.bindings})) or "none"
        raise SecretBindingError(
            f"task {quote(target.path)} has no secret {quote(secret)} bound (bound: {bound}); pass one"
            f" of those")
    if doomed:
        _, _, label = _own_path(compiled, target.path)
        executors = compiled.kubernetes_executors()
        entries.remove(executors[label], [binding.entry for binding in doomed])
        if not executors[label]:
            del executors[label]
        _drop_empty(compiled.platform_spec, ("platforms", "kubernetes", "deploymentSpec", "executors"))
    return _result(pipeline, compiled, None)


def _drop_empty(tree: dict, path: tuple[str, ...]) -> None:
    """Remove the empty dicts along ``path``, innermost first (the compiler writes no empty platform)."""
    if len(path) > 1 and isinstance(tree.get(path[0]), dict):
        _drop_empty(tree[path[0]], path[1:])
    if tree.get(path[0]) == {}:
        del tree[path[0]]


def locate(model: ir.PipelineModel, task: Any) -> ir.Task:
    """The container task named by a path, a unique task name, or a PipelineTask."""
    key = task if isinstance(task, str) else getattr(task, "name", None)
    if not isinstance(key, str):
        raise NotATaskError(
            f"task must be a task path, a task name or a pipeline task, got {type(task).__name__}")
    try:
        found = model.task(key)
    except KeyError:
        matches = [t for t in model.tasks if t.name == key]
        if not matches:
            hint = did_you_mean(key, [t.path for t in model.tasks])
            raise NotATaskError(f"pipeline {quote(model.name)} has no task {quote(key)}{hint}; give a task"
                                f" path or a unique task name (%kfp_secret bindings or ir.read_pipeline"
                                f" list them)") from None
        if len(matches) > 1:
            paths = " or ".join(repr(t.path) for t in matches)
            raise NotATaskError(f"task name {quote(key)} is used more than once; give its path,"
                                f" {paths}") from None
        found = matches[0]
    if not found.is_container:
        raise NotATaskError(
            f"task {quote(found.path)} is a {found.kind} task; secrets can only be bound to container tasks,"
            f" so bind them to a task inside it")
    return found


def _bind(compiled, task, secret, kind, env, mount_path, optional, param, default, keep_cache):
    """Bind on ``compiled`` (a private copy); returns the (name, default) of an added parameter."""
    target = locate(ir.build_model(compiled), task)
    validate.optional_flag(optional)
    if optional and kind == entries.PULL:
        raise SecretBindingError("an image pull secret cannot be optional: the kubelet already pulls without"
                                 " one it cannot find; drop optional")
    mapping = validate.env_mapping(env, "env") if kind == entries.ENV else None
    if kind == entries.VOLUME:
        validate.mount_path(mount_path)
    added = None
    if param is not None:
        added = _add_parameter(compiled, param, default if default is not None else secret, kind)
        reference: refs.SecretRef = refs.PipelineParam(param)
    else:
        reference = _checked_reference(secret, kind)
    chain, leaf, label = _own_path(compiled, target.path)
    name_entry = _thread(compiled, chain, leaf, target, reference, root_only=param is not None)
    config = compiled.kubernetes_executors().setdefault(label, {})
    entry = entries.build(kind, name_entry, env=mapping, mount_path=mount_path, optional=optional)
    if entries.contains(config, kind, entry):
        return added
    before = copy.deepcopy(config)
    entries.append(config, kind, entry)
    container_env = [item.get("name", "") for item in
                     compiled.executor_spec(label).get("container", {}).get("env", [])]
    validate.added(before, config, container_env, target.path)
    if "runtimeValue" not in name_entry and not keep_cache and kind != entries.PULL:
        leaf.setdefault("cachingOptions", {}).pop("enableCache", None)
    return added


def _checked_kind(env: object, mount_path: object, image_pull: object) -> str:
    if not isinstance(image_pull, bool):
        raise SecretBindingError(f"image_pull must be True or False, got {quote(image_pull)}")
    chosen = {entries.ENV: env is not None, entries.VOLUME: mount_path is not None, entries.PULL: image_pull}
    given = [kind for kind, value in chosen.items() if value]
    if len(given) != 1:
        raise SecretBindingError("give exactly one of env (a dict of secret key to env var), mount_path"
                                 " (a directory) or image_pull=True")
    return given[0]


def _checked_reference(secret: object, kind: str) -> refs.SecretRef:
    if not isinstance(secret, str):
        raise InvalidSecretNameError(
            f"secret must be a secret name or a '{{{{PARAM}}}}' / '{{{{tasks.TASK.OUTPUT}}}}' template,"
            f" got {quote(secret)}")
    # A bad literal pull secret name is left to the whole-config check: the kubelet pulls without it.
    return validate.secret_text(secret, volume=kind == entries.VOLUME, check_literal=kind != entries.PULL)


def _add_parameter(compiled: ir.CompiledPipeline, name: object, default: object,
                   kind: str) -> tuple[str, str]:
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("pipelinechannel"):
        raise SecretBindingError(f"param {quote(name)} is not a valid parameter name; use a Python identifier"
                                 f" such as 'db_secret'")
    if not isinstance(default, str) or refs.is_template(default):
        raise InvalidSecretNameError(
            f"param {quote(name)} needs a default secret name, got {quote(default)}; pass"
            f" default='my-secret'")
    # A pull secret name is a run-time value that the pre-run check looks at (the kubelet pulls without
    # a secret it cannot find), so only Secret names the pod cannot start without are refused here.
    problem = rules.secret_name_problem(default, volume=kind == entries.VOLUME)
    if problem and kind != entries.PULL:
        raise InvalidSecretNameError(problem)
    inputs = compiled.pipeline_spec["root"].setdefault("inputDefinitions", {}).setdefault("parameters", {})
    existing = inputs.get(name)
    if existing is None:
        inputs[name] = {"parameterType": "STRING", "defaultValue": default, "isOptional": True}
    elif existing.get("parameterType") != "STRING" or existing.get("defaultValue") != default:
        raise SecretBindingError(
            f"pipeline {quote(compiled.name)} already has a parameter {quote(name)}"
            f" ({existing.get('parameterType')}, default {quote(existing.get('defaultValue'))}); use"
            f" secret='{{{{{name}}}}}' to reuse it, or choose another param name")
    return name, default


def _own_path(compiled: ir.CompiledPipeline, path: str) -> tuple[list[tuple[dict, dict | None]], dict, str]:
    """Give every DAG on the way to the task, its component and its executor to this task alone.

    Returns the DAG chain ((component, calling task spec), root first), the task spec and its
    executor label.
    """
    components = compiled.pipeline_spec.setdefault("components", {})
    uses = Counter(spec.get("componentRef", {}).get("name")
                   for holder in (compiled.pipeline_spec["root"], *components.values())
                   for spec in holder.get("dag", {}).get("tasks", {}).values())
    chain: list[tuple[dict, dict | None]] = [(compiled.pipeline_spec["root"], None)]
    names = path.split(ir.PATH_SEP)
    spec: dict = {}
    for name in names:
        spec = chain[-1][0]["dag"]["tasks"][name]
        component_name = spec["componentRef"]["name"]
        if uses[component_name] > 1:
            clone = _unique(f"comp-{name}", components)
            components[clone] = copy.deepcopy(components[component_name])
            spec["componentRef"]["name"] = clone
            uses[component_name] -= 1
            uses[clone] = 1
            uses.update(inner["componentRef"]["name"]
                        for inner in components[clone].get("dag", {}).get("tasks", {}).values())
            component_name = clone
        if name != names[-1]:
            chain.append((components[component_name], spec))
    component = components[spec["componentRef"]["name"]]
    label = component["executorLabel"]
    if sum(1 for c in components.values() if c.get("executorLabel") == label) > 1:
        executors = compiled.pipeline_spec["deploymentSpec"]["executors"]
        new_label = _unique(f"exec-{names[-1]}", executors)
        executors[new_label] = copy.deepcopy(executors[label])
        platform = compiled.kubernetes_executors()
        if label in platform:
            platform[new_label] = copy.deepcopy(platform[label])
        component["executorLabel"] = label = new_label
    return chain, spec, label


def _unique(base: str, taken: Mapping) -> str:
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _thread(compiled: ir.CompiledPipeline, chain: list, leaf: dict, target: ir.Task,
            reference: refs.SecretRef, root_only: bool) -> dict:
    """The task's ``secretNameParameter`` for ``reference``, passing the value down every DAG."""
    if isinstance(reference, refs.Literal):
        return refs.to_ir(reference)
    if isinstance(reference, refs.PipelineParam):
        depth = 0 if root_only else _input_depth(compiled, chain, reference.name)
        declared = chain[depth][0]["inputDefinitions"]["parameters"][reference.name].get("parameterType")
        if declared != "STRING":
            raise ChannelError(
                f"parameter {quote(reference.name)} is of type {declared}, but a secret name must be a"
                f" string; declare it as str")
        source = refs.to_ir(reference)
        channel = reference.name if reference.name.startswith(ir.CHANNEL_PREFIX) \
            else ir.CHANNEL_PREFIX + reference.name
    else:
        depth = _producer_depth(compiled, chain, leaf, target, reference)
        source = refs.to_ir(reference)
        channel = f"{ir.CHANNEL_PREFIX}{reference.task}-{reference.output}"
        sibling = chain[depth + 1][1] if depth + 1 < len(chain) else leaf
        dependencies = sibling.setdefault("dependentTasks", [])
        if reference.task not in dependencies:
            dependencies.append(reference.task)
            dependencies.sort()
    for component, caller in chain[depth + 1:]:
        inputs = component.setdefault("inputDefinitions", {}).setdefault("parameters", {})
        arguments = caller.setdefault("inputs", {}).setdefault("parameters", {})
        if channel in inputs and arguments.get(channel) != source:
            raise SecretBindingError(
                f"input {quote(channel)} of task {quote(caller['taskInfo']['name'])} already carries"
                f" another value; pass the secret name as a new parameter with param=...")
        inputs.setdefault(channel, {"parameterType": "STRING"})
        arguments[channel] = source
        source = {"componentInputParameter": channel}
    return source


def _input_depth(compiled: ir.CompiledPipeline, chain: list, name: str) -> int:
    """The innermost DAG level that has input ``name``."""
    for depth in range(len(chain) - 1, -1, -1):
        if name in chain[depth][0].get("inputDefinitions", {}).get("parameters", {}):
            return depth
    known = [n for n in chain[-1][0].get("inputDefinitions", {}).get("parameters", {})
             if not n.startswith(ir.CHANNEL_PREFIX)]
    known += list(chain[0][0].get("inputDefinitions", {}).get("parameters", {}))
    raise TemplateError(f"template '{{{{{name}}}}}' names unknown pipeline parameter {quote(name)}"
                        f"{did_you_mean(name, known)} of pipeline {quote(compiled.name)}; use an existing"
                        f" parameter, or add one with param={quote(name)}, default='my-secret'")


def _producer_depth(compiled: ir.CompiledPipeline, chain: list, leaf: dict, target: ir.Task,
                    reference: refs.TaskOutput) -> int:
    """The innermost DAG level that has task ``reference.task``; checks its output and the order."""
    for depth in range(len(chain) - 1, -1, -1):
        tasks = chain[depth][0]["dag"]["tasks"]
        if reference.task not in tasks:
            continue
        sibling = chain[depth + 1][1] if depth + 1 < len(chain) else leaf
        sibling_name = sibling["taskInfo"]["name"]
        if reference.task == sibling_name:
            raise ChannelError(
                f"task {quote(target.path)} cannot take its secret name from {quote(reference.task)},"
                f" which is the task itself or contains it; produce the name in an upstream task")
        if sibling_name in _upstream(tasks, reference.task):
            raise TemplateError(
                f"task {quote(reference.task)} runs after {quote(sibling_name)}, so its output cannot"
                f" name a secret of task {quote(target.path)}; produce the name in an upstream task")
        level = ir.Level("", chain[depth][0], None, "")
        declared = ir.output_type(compiled, level, reference.task, reference.output)
        if declared is None:
            outputs = compiled.component(tasks[reference.task]["componentRef"]["name"]).get(
                "outputDefinitions", {}).get("parameters", {})
            known = ", ".join(map(repr, sorted(outputs))) or "none"
            raise TemplateError(f"task {quote(reference.task)} has no output parameter"
                                f" {quote(reference.output)} (outputs: {known})")
        if declared != "STRING":
            raise ChannelError(f"output {quote(reference.output)} of task {quote(reference.task)} is of type"
                               f" {declared}, but a secret name must be a string; return it as str")
        return depth
    raise TemplateError(f"template '{reference}' names unknown task {quote(reference.task)}; use a task"
                        f" of the same DAG as {quote(target.path)} or of a DAG that contains it")


def _upstream(tasks: dict, name: str) -> set[str]:
    """Every task that ``name`` depends on, directly or not, within one DAG."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for dependency in tasks.get(todo.pop(), {}).get("dependentTasks", []):
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def _matches(binding: ir.Binding, secret: str) -> bool:
    """Whether ``binding`` is the one ``secret`` (a name or template, as given to bind) names."""
    wanted = refs.parse(secret)
    if binding.reference == wanted:
        return True
    source = binding.source
    if isinstance(wanted, refs.Literal):
        return source.kind == "literal" and source.name == wanted.name
    if isinstance(wanted, refs.PipelineParam):
        return binding.reference == refs.PipelineParam(ir.CHANNEL_PREFIX + wanted.name) or (
            source.kind == "parameter" and source.parameter == wanted.name)
    return source.kind == "task-output" and source.output == wanted.output \
        and str(source.task).rsplit(ir.PATH_SEP, 1)[-1] == wanted.task


def _result(pipeline: Any, compiled: ir.CompiledPipeline, added: tuple[str, str] | None) -> Any:
    """Hand the changed IR back in the form ``pipeline`` came in (a component changes in place)."""
    if isinstance(pipeline, ir.CompiledPipeline) or not hasattr(pipeline, "pipeline_spec"):
        as_text = isinstance(pipeline, str) or hasattr(pipeline, "__fspath__")
        return compiled.to_yaml() if as_text else compiled
    pipeline_spec, platform_spec = compiled.to_protos()
    pipeline.pipeline_spec.CopyFrom(pipeline_spec)
    pipeline.platform_spec.CopyFrom(platform_spec)
    inputs = pipeline.component_spec.inputs
    if added is not None and (inputs is None or added[0] not in inputs):
        from kfp.dsl import structures

        spec = structures.InputSpec(type="String", default=added[1], optional=True)
        pipeline.component_spec.inputs = {**(inputs or {}), added[0]: spec}
        pipeline._component_inputs.add(added[0])  # the set kfp checks call arguments against
    return pipeline
