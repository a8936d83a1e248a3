"""Compiled-IR model: every task of a compiled pipeline, with its DAG path and its secret bindings.

A pipeline is read from a ``@dsl.pipeline`` function (GraphComponent), a compiled YAML file or
string, or the loaded documents, into a :class:`CompiledPipeline` (two plain dicts). The model
(:func:`read_pipeline`) walks the root DAG and every nested DAG (sub-pipelines, ``ParallelFor``,
``If/Elif/Else``, ``ExitHandler``) and traces each secret name to where it comes from.
"""

from __future__ import annotations

import copy
import marshal
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kfp_nbsecrets import entries, refs
from kfp_nbsecrets.errors import NotAPipelineError, PipelineSourceError

PATH_SEP = "/"
ROOT_DAG = "root"
CHANNEL_PREFIX = refs.CHANNEL_PREFIX


@dataclass
class CompiledPipeline:
    """The two documents of a compiled pipeline: PipelineSpec and PlatformSpec, as plain dicts."""

    pipeline_spec: dict
    platform_spec: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.pipeline_spec.get("pipelineInfo", {}).get("name", "")

    def component(self, name: str) -> dict:
        """The component spec ``name`` ('root' is the pipeline itself)."""
        if name == ROOT_DAG:
            return self.pipeline_spec["root"]
        return self.pipeline_spec.get("components", {}).get(name, {})

    def executor_spec(self, label: str | None) -> dict:
        return self.pipeline_spec.get("deploymentSpec", {}).get("executors", {}).get(label or "", {})

    def kubernetes_executors(self) -> dict:
        """``platforms.kubernetes.deploymentSpec.executors`` (created empty when missing)."""
        kubernetes = self.platform_spec.setdefault("platforms", {}).setdefault("kubernetes", {})
        return kubernetes.setdefault("deploymentSpec", {}).setdefault("executors", {})

    def platform_config(self, label: str | None) -> dict:
        executors = self.platform_spec.get("platforms", {}).get("kubernetes", {})
        return executors.get("deploymentSpec", {}).get("executors", {}).get(label or "", {})

    def documents(self) -> list[dict]:
        """The YAML documents, as the KFP compiler writes them (no platform document when empty)."""
        platforms = self.platform_spec.get("platforms", {})
        has_platform = any(platforms.get(name) for name in platforms)
        return [self.pipeline_spec, self.platform_spec] if has_platform else [self.pipeline_spec]

    def to_yaml(self) -> str:
        """The compiled YAML text, with the KFP compiler's header comments."""
        import yaml
        from kfp.compiler.pipeline_spec_builder import extract_comments_from_pipeline_spec

        description = self.pipeline_spec.get("pipelineInfo", {}).get("description")
        header = extract_comments_from_pipeline_spec(self.pipeline_spec, description)
        return header + yaml.dump_all(self.documents(), Dumper=_yaml_dumper(), sort_keys=True)

    def write(self, path: str | os.PathLike) -> None:
        with open(path, "w", encoding="utf-8") as file:
            file.write(self.to_yaml())

    def to_protos(self):
        """The (PipelineSpec, PlatformSpec) protos; raises ValueError when the IR is not valid."""
        from google.protobuf import json_format
        from kfp.pipeline_spec import pipeline_spec_pb2

        try:
            pipeline_spec = json_format.ParseDict(self.pipeline_spec, pipeline_spec_pb2.PipelineSpec())
            platform_spec = json_format.ParseDict(self.platform_spec, pipeline_spec_pb2.PlatformSpec())
        except json_format.ParseError as error:
            raise PipelineSourceError(f"not a valid compiled pipeline: {error}") from None
        return pipeline_spec, platform_spec


def _yaml_dumper():
    import yaml

    return getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _yaml_loader():
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(source: Any) -> CompiledPipeline:
    """Read a compiled pipeline from any source, as a fresh copy.

    ``source`` is a GraphComponent (``@dsl.pipeline`` result) or loaded component, a
    CompiledPipeline, a path to compiled YAML, YAML text, a PipelineSpec dict, or a
    (PipelineSpec, PlatformSpec) pair of dicts.
    """
    if isinstance(source, CompiledPipeline):
        return CompiledPipeline(_copy_tree(source.pipeline_spec), _copy_tree(source.platform_spec))
    if hasattr(source, "pipeline_spec") and hasattr(source, "platform_spec"):
        return _from_component(source)
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        return _from_documents(_parse_yaml(_read_text(source), str(source)), str(source))
    if isinstance(source, str):
        return _from_documents(_parse_yaml(source, "the YAML text"), "the YAML text")
    if isinstance(source, dict):
        return _from_documents([_copy_tree(source)], "the dict")
    if isinstance(source, (list, tuple)) and all(isinstance(doc, dict) for doc in source):
        return _from_documents([_copy_tree(doc) for doc in source], "the documents")
    raise NotAPipelineError(
        f"cannot read a compiled pipeline from {type(source).__name__}; pass a @dsl.pipeline function,"
        f" a compiled YAML path or text, or the loaded PipelineSpec (and PlatformSpec) dicts"
    )


def _copy_tree(tree: Any) -> Any:
    """A deep copy of JSON-like data that shares no dict or list with ``tree``, nor within itself (so
    that changing one executor's config never changes another that was the same object); several
    times faster than copy.deepcopy. Marshal format 2 writes no back-references."""
    try:
        return marshal.loads(marshal.dumps(tree, 2))
    except ValueError:  # a value marshal cannot write, such as a date a YAML loader made
        return copy.deepcopy(tree)


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and (text.endswith((".yaml", ".yml", ".json")) or os.path.exists(text))


def _read_text(path: str | os.PathLike) -> str:
    """The text of a pipeline file; a one-line error naming the file for anything that is not text."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except IsADirectoryError:
        raise PipelineSourceError(f"{path} is a directory; give the compiled pipeline YAML file") from None
    except FileNotFoundError:
        raise PipelineSourceError(f"{path}: no such file; give a compiled pipeline YAML file") from None
    except OSError as error:
        raise PipelineSourceError(f"cannot read {path}: {error.strerror or type(error).__name__}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PipelineSourceError(f"{path} is not UTF-8 text (a binary file?); give compiled pipeline"
                                  f" YAML") from None


# An alias token (``*name``) where a YAML node may start; confirmed by the parser before refusing.
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\]}]")


def _parse_yaml(text: str, where: str) -> list[dict]:
    import yaml

    from kfp_nbsecrets.yaml_depth import too_deep

    try:
        if too_deep(text):
            raise PipelineSourceError(f"{where} is YAML nested too deeply to be a compiled pipeline; give the"
                                      f" YAML as the compiler wrote it")
        if _ALIAS.search(text) and any(isinstance(event, yaml.AliasEvent)
                                       for event in yaml.parse(text, Loader=_yaml_loader())):
            raise PipelineSourceError(
                f"{where} uses YAML aliases, which the KFP compiler never writes and which can expand"
                f" without bound; give the YAML as the compiler wrote it")
        return [doc for doc in yaml.load_all(text, Loader=_yaml_loader()) if doc is not None]
    except yaml.YAMLError as error:
        raise PipelineSourceError(f"{where} is not valid YAML ({error.__class__.__name__}); pass compiled"
                                  f" pipeline YAML") from None


def _from_documents(documents: list, where: str) -> CompiledPipeline:
    """The pipeline of loaded documents, checked against the PipelineSpec / PlatformSpec protos."""
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    if not documents or not isinstance(documents[0], dict) or "root" not in documents[0]:
        raise PipelineSourceError(
            f"{where} is not a compiled pipeline (its first document has no 'root' DAG); compile the"
            f" pipeline with kfp.compiler.Compiler().compile(...) first"
        )
    platform = documents[1] if len(documents) > 1 else {}
    for document, message, what in ((documents[0], pipeline_spec_pb2.PipelineSpec, "PipelineSpec"),
                                    (platform, pipeline_spec_pb2.PlatformSpec, "PlatformSpec")):
        try:
            json_format.ParseDict(document, message(), ignore_unknown_fields=True)
        except (json_format.ParseError, TypeError, ValueError, AttributeError) as error:
            detail = (str(error).splitlines() or [type(error).__name__])[0]
            detail = detail if len(detail) <= 100 else detail[:99] + "\u2026"
            raise PipelineSourceError(f"{where} is not a compiled pipeline: its {what} does not parse"
                                      f" ({detail})") from None
    return CompiledPipeline(documents[0], platform)


def _from_component(component: Any) -> CompiledPipeline:
    from google.protobuf import json_format

    pipeline_spec = json_format.MessageToDict(component.pipeline_spec)
    platform_spec = json_format.MessageToDict(component.platform_spec)
    return CompiledPipeline(pipeline_spec, platform_spec)


# ---------------------------------------------------------------------------------------------
# Model


@dataclass(frozen=True, slots=True)
class Parameter:
    """An input parameter of the pipeline."""

    name: str
    type: str
    default: Any = None
    has_default: bool = False


@dataclass(frozen=True, slots=True)
class NameSource:
    """Where a secret name comes from, traced up to the root of the pipeline.

    ``kind`` is ``literal`` (``name``), ``parameter`` (root ``parameter`` with ``default``),
    ``task-output`` (``output`` of the task at path ``task``), ``loop-item`` (one item of
    ``items``, itself a NameSource) or ``unresolved`` (``problem`` says why). ``via`` lists the
    DAG inputs the value passes through, innermost first.
    """

    kind: str
    name: str | None = None
    parameter: str | None = None
    default: Any = None
    has_default: bool = False
    task: str | None = None
    output: str | None = None
    items: NameSource | None = None
    via: tuple[str, ...] = ()
    problem: str | None = None

    def describe(self) -> str:
        """A short text: ``'db-creds'``, ``{{env}} = 'dev'``, ``{{tasks.t.Output}}``, ``item of ...``."""
        if self.kind == "literal":
            return repr(self.name)
        if self.kind == "parameter":
            default = f" = {self.default!r}" if self.has_default else " (no default)"
            return "{{" + str(self.parameter) + "}}" + default
        if self.kind == "task-output":
            return "{{tasks." + str(self.task) + "." + str(self.output) + "}}"
        if self.kind == "loop-item":
            return "item of " + (self.items.describe() if self.items else "?")
        return f"unresolved: {self.problem}"

    def secret_text(self) -> str:
        """The secret's name, or the template or loop it comes from (the SECRET column of tables)."""
        if self.kind == "literal":
            return str(self.name)
        if self.kind == "parameter":
            return "{{" + str(self.parameter) + "}}"
        if self.kind == "loop-item":
            return "item of " + (self.items.secret_text() if self.items else "?")
        if self.kind == "task-output":
            return self.describe()
        return "?"

    def origin_text(self) -> str:
        """What kind of value names the secret, with the parameter default (the SOURCE column)."""
        if self.kind == "parameter":
            return f"parameter, default {self.default!r}" if self.has_default else "parameter, no default"
        items = self.items.kind if self.items is not None else None
        if self.kind == "loop-item" and items in ("parameter", "unresolved"):  # what the list is, or why not
            return f"loop item, {self.items.origin_text()}"
        if self.kind == "unresolved":
            return f"unresolved: {self.problem}"
        return self.kind.replace("-", " ")

    def to_json(self) -> dict:
        data = {"kind": self.kind, "text": self.describe()}
        for key in ("name", "parameter", "task", "output", "problem"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.kind == "parameter" and self.has_default:
            data["default"] = self.default
        if self.items is not None:
            data["items"] = self.items.to_json()
        if self.via:
            data["via"] = list(self.via)
        return data


@dataclass(frozen=True, slots=True)
class Binding:
    """One secret entry of a task, with its name traced to its source.

    ``kind`` is ``env``, ``volume`` or ``image-pull``; ``entry`` is the entry as read.
    """

    task: str
    kind: str
    reference: refs.SecretRef | None
    source: NameSource
    entry: entries.SecretEntry = field(repr=False, compare=False)

    @property
    def env(self) -> tuple[tuple[str, str], ...]:
        return self.entry.env

    @property
    def mount_path(self) -> str | None:
        return self.entry.mount_path

    @property
    def optional(self) -> bool:
        return self.entry.optional

    def target(self) -> str:
        """Where the secret lands: ``KEY → ENV`` pairs, the mount path, or ``image pull``."""
        return self.entry.target()

    def to_json(self) -> dict:
        data: dict = {"task": self.task, "kind": self.kind, "source": self.source.to_json(),
                      "optional": self.optional}
        if self.reference is not None:
            data["reference"] = str(self.reference)
        if self.kind == "env":
            data["env"] = [{"secretKey": key, "envVar": env} for key, env in self.env]
        if self.kind == "volume":
            data["mountPath"] = self.mount_path
        return data


@dataclass(frozen=True, slots=True)
class Level:
    """One DAG on the way from the root to a task: its component and the task that runs it."""

    component: str
    spec: dict = field(repr=False, compare=False)
    caller: dict | None = field(repr=False, compare=False)
    path: str = ""


@dataclass(frozen=True, slots=True)
class Task:
    """A task of the pipeline, with its full path through the nested DAGs.

    ``kind`` is ``container``, ``importer``, ``pipeline`` (a sub-pipeline), ``for-loop``,
    ``condition``, ``condition-branches`` or ``exit-handler``.
    """

    path: str
    name: str
    kind: str
    parent: str
    component: str
    executor: str | None
    depends_on: tuple[str, ...]
    caching: bool
    image: str | None = None
    command: tuple[str, ...] = ()
    bindings: tuple[Binding, ...] = ()
    levels: tuple[Level, ...] = field(default=(), repr=False, compare=False)
    spec: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_container(self) -> bool:
        return self.kind == "container"

    def secret_bindings(self) -> tuple[Binding, ...]:
        """The env and volume bindings (image pull secrets left out)."""
        return tuple(b for b in self.bindings if b.kind != "image-pull")


@dataclass
class PipelineModel:
    """Every task of a compiled pipeline, in DAG order (depth first, then by name)."""

    name: str
    parameters: dict[str, Parameter]
    tasks: list[Task]
    compiled: CompiledPipeline = field(repr=False)

    def __post_init__(self) -> None:
        self._by_path = {task.path: task for task in self.tasks}

    def task(self, path: str) -> Task:
        return self._by_path[path]

    def bindings(self) -> Iterator[Binding]:
        for task in self.tasks:
            yield from task.bindings


def read_pipeline(source: Any) -> PipelineModel:
    """The model of every task and secret binding of a compiled pipeline from any source
    (a PipelineModel is returned as it is)."""
    if isinstance(source, PipelineModel):
        return source
    compiled = source if isinstance(source, CompiledPipeline) else load(source)
    return build_model(compiled)


def build_model(compiled: CompiledPipeline) -> PipelineModel:
    """The model of ``compiled`` (which it reads, never copies or changes)."""
    root = compiled.pipeline_spec["root"]
    parameters = {
        name: Parameter(name, spec.get("parameterType", ""), spec.get("defaultValue"), "defaultValue" in spec)
        for name, spec in sorted(root.get("inputDefinitions", {}).get("parameters", {}).items())
    }
    tasks: list[Task] = []
    _walk(compiled, (Level(ROOT_DAG, root, None, ""),), tasks, set())
    return PipelineModel(compiled.name, parameters, tasks, compiled)


def _walk(compiled: CompiledPipeline, levels: tuple[Level, ...], out: list[Task], seen: set) -> None:
    level = levels[-1]
    prefix = level.path + PATH_SEP if level.path else ""
    for name, spec in sorted(level.spec.get("dag", {}).get("tasks", {}).items()):
        component_name = spec.get("componentRef", {}).get("name", "")
        component = compiled.component(component_name)
        label = component.get("executorLabel")
        executor = compiled.executor_spec(label)
        kind = _task_kind(name, spec, component, executor)
        path = prefix + name
        container = executor.get("container", {})
        task = Task(
            path=path,
            name=name,
            kind=kind,
            parent=level.path,
            component=component_name,
            executor=label,
            depends_on=tuple(prefix + dep for dep in spec.get("dependentTasks", [])),
            caching=bool(spec.get("cachingOptions", {}).get("enableCache")),
            image=container.get("image"),
            command=tuple(container.get("command", ())) + tuple(container.get("args", ())),
            bindings=tuple(_bindings(compiled, path, label, levels)) if label else (),
            levels=levels,
            spec=spec,
        )
        out.append(task)
        if "dag" in component and component_name not in seen:
            # a DAG that contains itself is invalid; guard against it rather than recursing forever
            _walk(compiled, (*levels, Level(component_name, component, spec, path)), out,
                  seen | {component_name})


def _task_kind(name: str, spec: dict, component: dict, executor: dict) -> str:
    if "dag" not in component:
        return "importer" if "importer" in executor else "container"
    if "parameterIterator" in spec or "artifactIterator" in spec:
        return "for-loop"
    if name.startswith("condition-branches-"):
        return "condition-branches"
    if spec.get("triggerPolicy", {}).get("condition") is not None or name.startswith("condition-"):
        return "condition"
    if name.startswith("exit-handler-"):
        return "exit-handler"
    return "pipeline"


def _bindings(compiled: CompiledPipeline, path: str, label: str, levels: tuple[Level, ...]):
    config = compiled.platform_config(label)
    for entry in entries.read(config):
        yield Binding(path, entry.kind, entry.reference, resolve(levels, entry.reference), entry)
    for entry in entries.image_pull_secrets(config):
        yield Binding(path, entry.kind, entry.reference, resolve(levels, entry.reference), entry)


def resolve(levels: tuple[Level, ...], reference: refs.SecretRef | None) -> NameSource:
    """Trace a reference made in the innermost DAG of ``levels`` up to where the value comes from."""
    if reference is None:
        return NameSource("unresolved", problem="the entry names no secret")
    return _resolve(levels, len(levels) - 1, refs.to_ir(reference), ())


def _resolve(levels: tuple[Level, ...], depth: int, entry: dict, via: tuple[str, ...]) -> NameSource:
    if "componentInputParameter" in entry:
        return _resolve_input(levels, depth, entry["componentInputParameter"], via)
    if "taskOutputParameter" in entry:
        output = entry["taskOutputParameter"]
        producer = output.get("producerTask", "")
        level = levels[depth]
        if producer not in level.spec.get("dag", {}).get("tasks", {}):
            return NameSource("unresolved", via=via, problem=f"no task {producer!r} in {dag_name(level)}")
        path = level.path + PATH_SEP + producer if level.path else producer
        return NameSource("task-output", task=path, output=output.get("outputParameterKey"), via=via)
    if "runtimeValue" in entry:
        return NameSource("literal", name=entry["runtimeValue"].get("constant"), via=via)
    return NameSource("unresolved", via=via, problem="the value is given by an unsupported expression")


def _resolve_input(levels: tuple[Level, ...], depth: int, name: str, via: tuple[str, ...]) -> NameSource:
    level = levels[depth]
    inputs = level.spec.get("inputDefinitions", {}).get("parameters", {})
    if name not in inputs:
        return NameSource("unresolved", via=via, problem=f"{dag_name(level)} has no input {name!r}")
    spec = inputs[name]
    if depth == 0:
        return NameSource("parameter", parameter=name, default=spec.get("defaultValue"),
                          has_default="defaultValue" in spec, via=via)
    caller = level.caller or {}
    iterator = caller.get("parameterIterator", {})
    if iterator.get("itemInput") == name:
        items = iterator.get("items", {})
        if "inputParameter" in items:  # an input of the loop task itself, passed in by its caller
            of = _resolve_input(levels, depth, items["inputParameter"], ())
        else:
            of = NameSource("literal", name=items.get("raw"))
        return NameSource("loop-item", items=of, via=(*via, name))
    argument = caller.get("inputs", {}).get("parameters", {}).get(name)
    if argument is None:
        if "defaultValue" in spec:
            return NameSource("literal", name=spec["defaultValue"], via=(*via, name))
        return NameSource("unresolved", via=via, problem=f"task {level.path!r} does not pass input {name!r}")
    if "parameterExpressionSelector" in argument:
        return NameSource("unresolved", via=(*via, name),
                          problem="the value is a field of a loop item, which KFP does not resolve")
    return _resolve(levels, depth - 1, argument, (*via, name))


def dag_name(level: Level) -> str:
    return f"the DAG of task {level.path!r}" if level.path else "the pipeline"


def input_type(level: Level, name: str) -> str | None:
    """The declared parameter type of input ``name`` of a DAG level."""
    return level.spec.get("inputDefinitions", {}).get("parameters", {}).get(name, {}).get("parameterType")


def output_type(compiled: CompiledPipeline, level: Level, producer: str, output: str) -> str | None:
    """The declared type of an output parameter of task ``producer`` in a DAG level."""
    spec = level.spec.get("dag", {}).get("tasks", {}).get(producer)
    if spec is None:
        return None
    component = compiled.component(spec.get("componentRef", {}).get("name", ""))
    return component.get("outputDefinitions", {}).get("parameters", {}).get(output, {}).get("parameterType")

