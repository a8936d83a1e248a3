"""Validated drop-ins for the kfp.kubernetes functions that add env vars, mounts or pull secrets.

Same signatures, same platform config for every valid input (the config is written by
kfp.kubernetes itself), but every input is checked first and a refused call leaves the task
exactly as it was; a legal but risky input (docs/kubernetes.md) is accepted with a
:class:`~kfp_nbsecrets.errors.KubernetesWarning`. On top of upstream, a secret, ConfigMap or image
pull secret name may be a ``{{PARAM}}`` or ``{{tasks.TASK.OUTPUT}}`` template, compiled to a real
parameter reference.

Cache safety: the KFP cache key ignores secret names, so a task whose secret name is not a
literal has caching turned off (``cachingOptions: {}`` in its IR) unless ``keep_cache=True``.
"""

from __future__ import annotations

import copy
import functools
import inspect
import sys
from collections.abc import Callable

from kfp import kubernetes
from kfp.dsl import PipelineTask, pipeline_channel, pipeline_context
from kfp.dsl.for_loop import LoopArgumentVariable
from kfp.dsl.graph_component import GraphComponent

from kfp_nbsecrets import refs, validate
from kfp_nbsecrets.errors import ChannelError, NotATaskError, TemplateError, did_you_mean, quote

SecretName = str | pipeline_channel.PipelineParameterChannel


def use_secret_as_env(
    task: PipelineTask,
    secret_name: SecretName,
    secret_key_to_env: dict[str, str],
    optional: bool = False,
    *,
    keep_cache: bool = False,
) -> PipelineTask:
    """Expose keys of a Secret as env vars of ``task``; like ``kfp.kubernetes.use_secret_as_env``.

    ``secret_name`` is a literal name, a pipeline parameter, a task output, a loop item, or a
    ``{{PARAM}}`` / ``{{tasks.TASK.OUTPUT}}`` template. Raises a SecretBindingError (a
    ValueError) without touching the task when the binding would fail on the cluster.
    """
    _require_container_task(task)
    name = _checked_name(task, secret_name, volume=False)
    mapping = validate.env_mapping(secret_key_to_env, "secret_key_to_env")
    validate.optional_flag(optional)
    return _apply(task, lambda: kubernetes.use_secret_as_env(task, name, mapping, optional),
                  uncached=not isinstance(name, str) and not keep_cache)


def use_secret_as_volume(
    task: PipelineTask,
    secret_name: SecretName,
    mount_path: str,
    optional: bool = False,
    *,
    keep_cache: bool = False,
) -> PipelineTask:
    """Mount a Secret as files at ``mount_path`` in ``task``; like ``kfp.kubernetes.use_secret_as_volume``.

    Accepts the same secret names as :func:`use_secret_as_env`; also refuses names that cannot
    name a pod volume and mount paths no container can have.
    """
    _require_container_task(task)
    name = _checked_name(task, secret_name, volume=True)
    validate.mount_path(mount_path)
    validate.optional_flag(optional)
    return _apply(task, lambda: kubernetes.use_secret_as_volume(task, name, mount_path, optional),
                  uncached=not isinstance(name, str) and not keep_cache)


def _checked(original: Callable, prepare: Callable[[inspect.BoundArguments], None] | None = None) -> Callable:
    """``original`` (a kfp.kubernetes function) with the clash checks of :func:`_apply`; ``prepare``
    checks and converts the bound arguments first. Same name, docstring and signature."""
    signature = inspect.signature(original)

    @functools.wraps(original)
    def checked(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        task = bound.arguments.get("task")
        _require_container_task(task)
        if prepare is not None:
            prepare(task, bound)
        return _apply(task, lambda: original(*bound.args, **bound.kwargs))

    return checked


def _config_map_name(task: PipelineTask, bound: inspect.BoundArguments) -> None:
    bound.arguments["config_map_name"] = _checked_name(task, bound.arguments["config_map_name"],
                                                        volume=False, what="ConfigMap")


def _config_map_env(task: PipelineTask, bound: inspect.BoundArguments) -> None:
    _config_map_name(task, bound)
    bound.arguments["config_map_key_to_env"] = validate.env_mapping(
        bound.arguments["config_map_key_to_env"], "config_map_key_to_env", what="ConfigMap")


def _config_map_volume(task: PipelineTask, bound: inspect.BoundArguments) -> None:
    _config_map_name(task, bound)
    validate.mount_path(bound.arguments["mount_path"])


def _mount_path_only(task: PipelineTask, bound: inspect.BoundArguments) -> None:
    validate.mount_path(bound.arguments["mount_path"])


def _pull_secret_names(task: PipelineTask, bound: inspect.BoundArguments) -> None:
    names = bound.arguments["secret_names"]
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)):
        raise validate.SecretBindingError(
            f"secret_names must be a list of image pull secret names, got {type(names).__name__};"
            f" e.g. ['registry-creds']")
    bound.arguments["secret_names"] = [_checked_name(task, name, volume=False, what="image pull secret",
                                                     check_literal=False) for name in names]


mount_pvc = _checked(kubernetes.mount_pvc, _mount_path_only)
use_config_map_as_env = _checked(kubernetes.use_config_map_as_env, _config_map_env)
use_config_map_as_volume = _checked(kubernetes.use_config_map_as_volume, _config_map_volume)
empty_dir_mount = _checked(kubernetes.empty_dir_mount, _mount_path_only)
add_ephemeral_volume = _checked(kubernetes.add_ephemeral_volume, _mount_path_only)
use_field_path_as_env = _checked(kubernetes.use_field_path_as_env)
set_image_pull_secrets = _checked(kubernetes.set_image_pull_secrets, _pull_secret_names)

#: The kfp.kubernetes functions that kfp_nbsecrets checks (every other one is passed through as is).
CHECKED = ("use_secret_as_env", "use_secret_as_volume", "mount_pvc", "use_config_map_as_env",
           "use_config_map_as_volume", "empty_dir_mount", "add_ephemeral_volume", "use_field_path_as_env",
           "set_image_pull_secrets")


def _apply(task: PipelineTask, write: Callable[[], PipelineTask], uncached: bool = False) -> PipelineTask:
    """Run kfp.kubernetes' writer, then the clash checks of the whole config; on a refusal or any
    other failure put the task back as it was. New warnings are issued once the call stands."""
    saved = (copy.deepcopy(task.platform_config), list(task._channel_inputs),
             list(task._task_spec.dependent_tasks or []), task._task_spec.enable_caching)
    try:
        write()
        validate.added(saved[0].get("kubernetes", {}), _kubernetes_config(task),
                       (task.container_spec.env or {}).keys(), task.name)
        if uncached:
            task.set_caching_options(enable_caching=False, cache_key=task._task_spec.cache_key)
    except BaseException:
        (task.platform_config, task._channel_inputs,
         task._task_spec.dependent_tasks, task._task_spec.enable_caching) = saved
        raise
    return task


def _require_container_task(task: object) -> None:
    if not isinstance(task, PipelineTask):
        raise NotATaskError(
            f"expected a pipeline task (the result of calling a component inside a @dsl.pipeline"
            f" function), got {type(task).__name__}; call the component first, e.g."
            f" task = my_component(...)"
        )
    if task.container_spec is None:
        kind = "a pipeline used as a component" if task.pipeline_spec is not None else "an importer"
        raise NotATaskError(
            f"task {quote(task.name)} is {kind}; secrets can only be attached to container tasks, so"
            f" attach them to the tasks inside it"
        )


def _kubernetes_config(task: PipelineTask) -> dict:
    return task.platform_config.get("kubernetes", {})


def _checked_name(task: PipelineTask, secret_name: object, *, volume: bool, what: str = "secret",
                  check_literal: bool = True) -> SecretName:
    """Validate a Secret (or ConfigMap, image pull secret: ``what``) name; templates become the
    channels they name. A literal ConfigMap or pull secret name is checked with the whole config."""
    if isinstance(secret_name, str):
        ref = validate.secret_text(secret_name, volume=volume,
                                   check_literal=check_literal and what == "secret")
        if isinstance(ref, refs.Literal):
            return secret_name
        secret_name = _channel_for_template(ref)
    if isinstance(secret_name, LoopArgumentVariable):
        field = secret_name.subvar_name
        raise ChannelError(
            f"{what} name from field {quote(field)} of a ParallelFor item is not resolved by the KFP"
            f" backend; loop over a list of the {what} names themselves, or pass the item to a"
            f" component that returns item[{quote(field)}] and use that task's output"
        )
    if isinstance(secret_name, pipeline_channel.PipelineArtifactChannel):
        raise ChannelError(
            f"{quote(secret_name.name)} is an artifact; a {what} name must be a string parameter or"
            f" a string output of a task"
        )
    if not isinstance(secret_name, pipeline_channel.PipelineParameterChannel):
        raise ChannelError(
            f"a {what} name must be a string, a pipeline parameter, a task output or a loop item,"
            f" got {type(secret_name).__name__}"
        )
    if str(secret_name.channel_type).lower() not in ("string", "str"):
        raise ChannelError(
            f"parameter {quote(secret_name.name)} is of type {secret_name.channel_type}, but a {what}"
            f" name must be a string; declare it as str"
        )
    if secret_name.task is task or (secret_name.task_name and secret_name.task_name == task.name):
        raise ChannelError(
            f"task {quote(task.name)} cannot take its {what} name from its own output; produce the"
            f" name in an upstream task"
        )
    producer = secret_name.task
    if producer is not None and _loops_of(producer) - _loops_of(task):
        raise ChannelError(
            f"task {quote(task.name)} cannot take its {what} name from {quote(producer.name)}, which runs in"
            f" a dsl.ParallelFor that {quote(task.name)} is not in: each iteration has its own output, so"
            f" there is no single name outside the loop; move the task into that loop, or produce the name"
            f" outside it"
        )
    return secret_name


def _loops_of(task: PipelineTask) -> set[int]:
    """The ``dsl.ParallelFor`` groups around a task (the KFP compiler refuses a dependency out of one)."""
    from kfp.dsl.tasks_group import ParallelFor

    loops, group = set(), task.parent_task_group
    while group is not None:
        if isinstance(group, ParallelFor):
            loops.add(id(group))
        group = group.parent_task_group
    return loops


def _channel_for_template(ref: refs.SecretRef) -> pipeline_channel.PipelineParameterChannel:
    """The channel that a ``{{PARAM}}`` or ``{{tasks.TASK.OUTPUT}}`` template names."""
    pipeline = pipeline_context.Pipeline.get_default_pipeline()
    inputs = _inputs_of_pipeline_being_defined(pipeline)
    if inputs is None:
        raise TemplateError(
            f"template {quote(str(ref))} can only be resolved inside a @dsl.pipeline function; outside"
            f" one, pass the parameter or task output itself, or use kfp_nbsecrets.bind on the"
            f" defined pipeline"
        )
    if isinstance(ref, refs.TaskOutput):
        producer = pipeline.tasks.get(ref.task)
        if producer is None:
            raise TemplateError(
                f"template {quote(str(ref))} names unknown task {quote(ref.task)}"
                f"{_close_matches(ref.task, pipeline.tasks)}; a task must be created before"
                f" its output is used"
            )
        channel = producer.outputs.get(ref.output)
        if channel is None:
            raise TemplateError(
                f"task {quote(ref.task)} has no output {quote(ref.output)}"
                f"{_close_matches(ref.output, producer.outputs)}"
            )
        return channel
    spec = inputs.get(ref.name)
    if spec is None:
        raise TemplateError(
            f"template {quote(str(ref))} names unknown pipeline parameter {quote(ref.name)}"
            f"{_close_matches(ref.name, inputs)}; add it to the pipeline function's signature"
        )
    return pipeline_channel.create_pipeline_channel(
        name=ref.name, channel_type=spec.type, is_artifact_list=spec.is_artifact_list)


def _inputs_of_pipeline_being_defined(pipeline: pipeline_context.Pipeline | None) -> dict | None:
    """Input specs of the @dsl.pipeline function running right now (None outside one)."""
    frame = sys._getframe(1)
    while pipeline is not None and frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, GraphComponent) and frame.f_code.co_name == "__init__" \
                and owner.component_spec.name == pipeline.name:
            return owner.component_spec.inputs or {}
        frame = frame.f_back
    return None


def _close_matches(word: str, choices) -> str:
    if hint := did_you_mean(word, choices):
        return hint
    known = ", ".join(repr(c) for c in sorted(choices)[:10])
    return f" (known: {known})" if known else ""
