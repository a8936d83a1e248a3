"""Local runs (``kfp.local``) that honour the pipeline's Kubernetes secrets.

``kfp.local`` ignores all Kubernetes platform config: a task that expects ``DB_PASSWORD`` runs
without it and nothing warns. :func:`run_local` runs a pipeline with ``kfp.local`` and injects
every ``secretAsEnv`` / ``secretAsVolume`` binding the way the KFP backend driver would.

The seam
--------
Both ``kfp.local`` orchestrators (the plain DAG runner and the control-flow one, used for
conditions, loops, nested pipelines and exit handlers) start every container task through
``kfp.local.orchestrator.task_executor.execute_single_task(task_name, task_spec, ..., executors,
io_store, ..., runner, ...)``, looked up as a module attribute at call time. That call is the
only place that has both the task's executor label (which keys the pipeline's platform spec) and
``io_store``, the scope of the DAG that contains the task (its inputs, including loop items and
values threaded into sub-DAGs, and the outputs of upstream tasks). :func:`inject_secrets`
replaces that one function for the duration of a run and puts it back afterwards, also on error.

The wrapper resolves each secret name in ``io_store`` at the moment the task starts, reads the
values from the configured :mod:`kfp_nbsecrets.sources` source and then calls the original
function with a *copy* of the task's executor spec:

* env bindings become ``env`` entries of the copied container spec, which ``kfp.local`` passes as
  the ``env`` of the task's process only (never ``os.environ`` of this process, never a command
  line; ``kfp.local`` logs neither);
* volume bindings are files (0600) in a private temp dir (0700). With the SubprocessRunner the
  task's command is prefixed with ``bwrap`` (bubblewrap), which gives the task a private mount
  namespace where that dir is bind-mounted read-only at the mount path; its arguments are read
  from a file in the private dir, so no path or value reaches a command line that ``kfp.local``
  might log. With the DockerRunner the dir is bind-mounted into the container instead.

Local caching is turned off for tasks that receive secrets (the cache key would hash the env).
The temp dir is removed when the task ends, also on failure and on KeyboardInterrupt.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from kfp_nbsecrets import refs, rules
from kfp_nbsecrets.sources import (
    MissingKeysError,
    SecretNotFound,
    SecretSource,
    SourceError,
    get_source,
)

logger = logging.getLogger(__name__)

TEMP_PREFIX = "kfp-nbsecrets-"
_BWRAP_INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)"


class LocalRunSecretError(RuntimeError):
    """A secret binding of a local run could not be honoured; the task did not start.

    The message is one line and names the task, the secret and the key, never a value.
    """

    def __init__(self, message: str, *, task: str = "", secret: str | None = None,
                 key: str | None = None) -> None:
        super().__init__(message)
        self.task = task
        self.secret = secret
        self.key = key


@dataclasses.dataclass(frozen=True)
class _Binding:
    """One secretAsEnv / secretAsVolume entry of an executor's platform config."""

    kind: str  # "env" or "volume"
    ref: refs.SecretRef
    optional: bool
    key_to_env: tuple[tuple[str, str], ...] = ()
    mount_path: str = ""

    def describe_ref(self) -> str:
        if isinstance(self.ref, refs.PipelineParam):
            return f"parameter {self.ref.name!r}"
        if isinstance(self.ref, refs.TaskOutput):
            return f"output {self.ref.output!r} of task {self.ref.task!r}"
        return repr(self.ref.name)


@dataclasses.dataclass
class _Prepared:
    """What one task execution receives: env values and volume mounts (source dir, mount path)."""

    env: dict[str, str] = dataclasses.field(default_factory=dict)
    volumes: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    tempdir: str | None = None

    def __repr__(self) -> str:  # never show values
        return f"<_Prepared env={sorted(self.env)} volumes={[p for _, p in self.volumes]}>"


def _kubernetes_executors(platform_spec: Any) -> dict[str, dict]:
    """Executor label → Kubernetes config, from a PlatformSpec message or its dict form."""
    if not isinstance(platform_spec, Mapping):
        from google.protobuf import json_format

        platform_spec = json_format.MessageToDict(platform_spec)
    return (platform_spec.get("platforms", {}).get("kubernetes", {})
            .get("deploymentSpec", {}).get("executors", {}))


def ignored_settings(platform_spec: Any) -> dict[str, list[str]]:
    """Executor label → the Kubernetes settings a local run cannot honour (all but secrets)."""
    ignored = {label: sorted(set(config) - {"secretAsEnv", "secretAsVolume"})
               for label, config in _kubernetes_executors(platform_spec).items()}
    return {label: fields for label, fields in ignored.items() if fields}


def bindings_by_executor(platform_spec: Any) -> dict[str, list[_Binding]]:
    """Secret bindings of a pipeline's platform spec (a PlatformSpec message or its dict form)."""
    found: dict[str, list[_Binding]] = {}
    for label, config in _kubernetes_executors(platform_spec).items():
        bindings = []
        for entry in config.get("secretAsEnv", []):
            ref = refs.from_ir(entry)
            if ref is None:
                continue
            pairs = tuple((pair.get("secretKey", ""), pair.get("envVar", ""))
                          for pair in entry.get("keyToEnv", []))
            bindings.append(_Binding("env", ref, bool(entry.get("optional", False)), key_to_env=pairs))
        for entry in config.get("secretAsVolume", []):
            ref = refs.from_ir(entry)
            if ref is None:
                continue
            bindings.append(_Binding("volume", ref, bool(entry.get("optional", False)),
                                     mount_path=entry.get("mountPath", "")))
        if bindings:
            found[label] = bindings
    return found


class _Fail(Exception):
    """Internal: a binding cannot be honoured; carries the LocalRunSecretError to report."""

    def __init__(self, error: LocalRunSecretError) -> None:
        super().__init__(str(error))
        self.error = error


# --------------------------------------------------------------------------------------------
# private mount namespace (bubblewrap)

_sandbox_lock = threading.Lock()
_sandbox_problem: list[str | None] = []  # cached probe result: [None] works, [text] why not


def sandbox_problem() -> str | None:
    """Why secret volumes cannot be mounted for SubprocessRunner tasks here (None: they can).

    Needs the ``bwrap`` program (Debian package ``bubblewrap``) and mount namespaces: as root
    they always work; as another user bwrap uses an unprivileged user namespace, which some
    hardened kernels or containers disable.
    """
    with _sandbox_lock:
        if not _sandbox_problem:
            _sandbox_problem.append(_probe_sandbox())
        return _sandbox_problem[0]


def _probe_sandbox() -> str | None:
    if os.name != "posix" or not os.path.isdir("/proc/self/ns"):
        return "secret volumes need Linux mount namespaces, which this system does not have"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return f"the 'bwrap' program is not installed; {_BWRAP_INSTALL_HINT}"
    try:
        done = subprocess.run([bwrap, "--dev-bind", "/", "/", "--", "true"], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"'bwrap' cannot be started ({type(exc).__name__})"
    if done.returncode != 0:
        why = (done.stderr or "").strip().splitlines()[-1:] or ["unknown error"]
        return (f"'bwrap' cannot create a private mount namespace here ({why[0]}); run as root or"
                f" enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)")
    return None


def _real_target(mount_path: str) -> str:
    return os.path.realpath(rules.normalize_mount_path(mount_path))


def bwrap_arguments(mounts: list[tuple[str, str]], cwd: str) -> list[str]:
    """bwrap options that show the host file system as it is, plus each (source dir, mount path).

    The new root is a tmpfs; every directory on the way to a mount path is a tmpfs directory
    whose entries are bind mounts of the host's, so a missing mount path is created in the
    sandbox only, never on the host, and everything else stays where the task expects it.
    """
    targets = {_real_target(path): source for source, path in mounts}
    mirrored = {"/"}
    for target in targets:
        parent = os.path.dirname(target)
        while True:
            if os.path.isdir(parent):
                mirrored.add(parent)
            if parent == "/":
                break
            parent = os.path.dirname(parent)
    args = ["--die-with-parent"]
    for directory in sorted(mirrored, key=lambda path: (path.count("/"), path)):
        if directory != "/":
            args += ["--dir", directory]
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as exc:
            raise ValueError(
                f"cannot list {directory!r} to build the mount namespace ({exc.strerror})") from None
        for entry in entries:
            if entry.path in mirrored or entry.path in targets:
                continue
            if entry.is_symlink():
                args += ["--symlink", os.readlink(entry.path), entry.path]
            else:
                args += ["--dev-bind", entry.path, entry.path]
    for target in sorted(targets, key=lambda path: (path.count("/"), path)):
        args += ["--ro-bind", targets[target], target]
    if os.path.isdir(cwd):
        args += ["--chdir", cwd]
    return args


# --------------------------------------------------------------------------------------------
# the hook

class _Run:
    """State of one local run: the bindings, the source, and the first secret failure."""

    def __init__(self, bindings: dict[str, list[_Binding]], source: str | SecretSource | None) -> None:
        self.bindings = bindings
        self._source_spec = source
        self._source: SecretSource | None = source if isinstance(source, SecretSource) else None
        self.failures: list[LocalRunSecretError] = []
        self.tempdirs_seen: list[str] = []
        self._lock = threading.Lock()

    @property
    def source(self) -> SecretSource:
        """The secret source, built on first use (a pipeline without secrets never needs one)."""
        with self._lock:
            if self._source is None:
                self._source = get_source(self._source_spec)
            return self._source

    def fail(self, error: LocalRunSecretError) -> None:
        with self._lock:
            self.failures.append(error)

    def note_tempdir(self, path: str) -> None:
        with self._lock:
            self.tempdirs_seen.append(path)

    # resolution, exactly as the driver: in the task's parent-DAG scope, at task start
    def resolve_name(self, task: str, binding: _Binding, io_store: Any) -> str | None:
        ref = binding.ref
        if isinstance(ref, refs.Literal):
            value: Any = ref.name
        else:
            try:
                if isinstance(ref, refs.PipelineParam):
                    value = io_store.get_parent_input(ref.name)
                else:
                    value = io_store.get_task_output(ref.task, ref.output)
            except ValueError:
                raise _Fail(LocalRunSecretError(
                    f"task {task!r}: the secret name comes from {binding.describe_ref()}, which has no"
                    f" value in the task's scope; pass that parameter or make the task run after the"
                    f" producer", task=task)) from None
            if value is None:
                return None  # an optional parameter left unset: the driver skips the entry
        if not isinstance(value, str) or not value:
            shown = "an empty string" if value == "" else f"a {type(value).__name__}"
            raise _Fail(LocalRunSecretError(
                f"task {task!r}: the secret name from {binding.describe_ref()} resolved to {shown};"
                f" a secret name must be a non-empty string", task=task))
        return value

    def prepare(self, task: str, label: str, io_store: Any) -> _Prepared:
        prepared = _Prepared()
        try:
            for binding in self.bindings.get(label, []):
                name = self.resolve_name(task, binding, io_store)
                if name is None:
                    continue
                if binding.kind == "env":
                    self._prepare_env(task, name, binding, prepared)
                else:
                    self._prepare_volume(task, name, binding, prepared)
        except BaseException:
            _remove(prepared)
            raise
        return prepared

    def _read(self, task: str, name: str, binding: _Binding, keys: list[str] | None,
              what: str) -> Mapping[str, bytes] | None:
        try:
            if binding.optional and keys is not None:
                present = set(self.source.keys(name))
                keys = [key for key in keys if key in present]
            return self.source.read_values_for_local_run(name, keys)
        except SecretNotFound:
            if binding.optional:
                logger.info("task %r: optional secret %r not found in %s; skipped", task, name,
                            self.source.describe())
                return None
            key = keys[0] if keys else None
            raise _Fail(LocalRunSecretError(
                f"task {task!r}: secret {name!r} ({what}) not found in {self.source.describe()};"
                f" create it, or mark the binding optional=True", task=task, secret=name, key=key)) from None
        except MissingKeysError:
            present = set(self.source.keys(name))
            missing = [key for key in keys or [] if key not in present]
            key = missing[0] if missing else None
            env = dict(binding.key_to_env).get(key or "")
            detail = f" (for env var {env!r})" if env else ""
            raise _Fail(LocalRunSecretError(
                f"task {task!r}: secret {name!r} has no key {key!r}{detail} in"
                f" {self.source.describe()}; add the key or mark the binding optional=True",
                task=task, secret=name, key=key)) from None
        except SourceError as exc:
            raise _Fail(LocalRunSecretError(
                f"task {task!r}: secret {name!r} could not be read ({what}): {exc}",
                task=task, secret=name)) from None

    def _prepare_env(self, task: str, name: str, binding: _Binding, prepared: _Prepared) -> None:
        keys = [key for key, _ in binding.key_to_env]
        first = binding.key_to_env[0] if binding.key_to_env else ("", "")
        values = self._read(task, name, binding, keys, f"key {first[0]!r} for env var {first[1]!r}")
        if values is None:
            return
        for key, env in binding.key_to_env:
            if key not in values:
                continue  # optional: a missing key leaves its env var unset
            try:
                text = values[key].decode("utf-8")
            except UnicodeDecodeError:
                text = None
            if text is None or "\x00" in text:
                raise _Fail(LocalRunSecretError(
                    f"task {task!r}: key {key!r} of secret {name!r} is not text (not UTF-8 or has a NUL"
                    f" byte) and cannot be env var {env!r}; mount the secret as a volume instead",
                    task=task, secret=name, key=key))
            prepared.env[env] = text

    def _prepare_volume(self, task: str, name: str, binding: _Binding, prepared: _Prepared) -> None:
        path = binding.mount_path
        if problem := rules.mount_path_problem(path):
            raise _Fail(LocalRunSecretError(f"task {task!r}: secret {name!r}: {problem}",
                                            task=task, secret=name))
        if _real_target(path) == "/":
            raise _Fail(LocalRunSecretError(f"task {task!r}: secret {name!r} cannot be mounted at '/'",
                                            task=task, secret=name))
        values = self._read(task, name, binding, None, f"to mount at {path!r}")
        if values is None:
            return
        for key in values:
            if problem := rules.secret_key_problem(key):
                raise _Fail(LocalRunSecretError(f"task {task!r}: secret {name!r}: {problem}",
                                                task=task, secret=name, key=key))
        if prepared.tempdir is None:
            prepared.tempdir = tempfile.mkdtemp(prefix=TEMP_PREFIX)  # mode 0700
            self.note_tempdir(prepared.tempdir)
        directory = os.path.join(prepared.tempdir, f"volume-{len(prepared.volumes)}")
        os.mkdir(directory, 0o700)
        for key, value in values.items():
            fd = os.open(os.path.join(directory, key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(value)
        prepared.volumes.append((directory, path))


def _remove(prepared: _Prepared) -> None:
    if prepared.tempdir is not None:
        shutil.rmtree(prepared.tempdir, ignore_errors=True)
        prepared.tempdir = None
    prepared.env.clear()


def _patched_call(run: _Run, original: Any, signature: inspect.Signature, args: tuple,
                  kwargs: dict) -> Any:
    bound = signature.bind(*args, **kwargs)
    params = bound.arguments
    task_spec = params["task_spec"]
    component = params["components"][task_spec.component_ref.name]
    label = component.executor_label
    if label not in run.bindings:
        return original(*args, **kwargs)

    from kfp.local import config, status

    task = params["task_name"]
    runner = params["runner"]
    prepared = _Prepared()
    try:
        try:
            prepared = run.prepare(task, label, params["io_store"])
            sandboxed = bool(prepared.volumes) and isinstance(runner, config.SubprocessRunner)
            if sandboxed:
                problem = sandbox_problem()
                if problem is None:
                    try:
                        options = bwrap_arguments(prepared.volumes, os.getcwd())
                    except ValueError as exc:
                        problem = str(exc)
                if problem:
                    raise _Fail(LocalRunSecretError(
                        f"task {task!r}: cannot mount secret volume(s) at"
                        f" {[path for _, path in prepared.volumes]}: {problem}", task=task))
        except _Fail as failure:
            run.fail(failure.error)
            logger.error("%s", failure.error)
            return {}, status.Status.FAILURE
        executors = dict(params["executors"])
        executor = copy.deepcopy(executors[label])
        for env, text in prepared.env.items():
            executor.container.env.add(name=env, value=text)
        new_task_spec = copy.deepcopy(task_spec)
        new_task_spec.caching_options.enable_cache = False
        if sandboxed:
            _wrap_command(executor, prepared, options)
        elif prepared.volumes:
            runner = _docker_runner_with_mounts(runner, prepared)
        executors[label] = executor
        params.update(executors=executors, task_spec=new_task_spec, runner=runner)
        return original(*bound.args, **bound.kwargs)
    finally:
        _remove(prepared)


def _wrap_command(executor: Any, prepared: _Prepared, options: list[str]) -> None:
    """Prefix the task's command with bwrap; its options come from a file in the private dir."""
    args_file = os.path.join(prepared.tempdir, "bwrap.args")
    fd = os.open(args_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"".join(os.fsencode(option) + b"\0" for option in options))
    original = list(executor.container.command)
    del executor.container.command[:]
    # sh opens the file on fd 3 and execs bwrap, which reads its options from that fd.
    executor.container.command.extend(
        ["sh", "-c", 'exec bwrap --args 3 -- "$@" 3<"$0"', args_file, *original])


def _docker_runner_with_mounts(runner: Any, prepared: _Prepared) -> Any:
    """A copy of a DockerRunner that bind-mounts the private dirs read-only (docker-py ``mounts``)."""
    import docker  # present whenever a DockerRunner could be built

    runner = copy.copy(runner)
    runner.container_run_args = dict(runner.container_run_args)
    mounts = list(runner.container_run_args.get("mounts") or [])
    for source, path in prepared.volumes:
        mounts.append(docker.types.Mount(target=rules.normalize_mount_path(path), source=source,
                                         type="bind", read_only=True))
    runner.container_run_args["mounts"] = mounts
    return runner


_patch_lock = threading.Lock()


@contextlib.contextmanager
def inject_secrets(pipeline: Any, source: str | SecretSource | None = None) -> Iterator[_Run]:
    """While active, ``kfp.local`` runs of ``pipeline`` receive its secrets (see the module doc).

    Patches ``kfp.local.orchestrator.task_executor.execute_single_task`` and restores it on exit.
    Only one run at a time: a second, concurrent ``inject_secrets`` raises RuntimeError.
    """
    from kfp.local.orchestrator import task_executor

    platform_spec = _platform_spec_of(pipeline)
    if ignored := ignored_settings(platform_spec):
        listed = "; ".join(f"{label}: {', '.join(fields)}" for label, fields in sorted(ignored.items()))
        warnings.warn(f"kfp.local ignores these Kubernetes settings, so the local run goes without them:"
                      f" {listed}", stacklevel=3)
    run = _Run(bindings_by_executor(platform_spec), source)
    if not _patch_lock.acquire(blocking=False):
        raise RuntimeError("another local run with secrets is in progress; run one at a time")
    original = task_executor.execute_single_task
    signature = inspect.signature(original)

    def execute_single_task(*args: Any, **kwargs: Any) -> Any:
        return _patched_call(run, original, signature, args, kwargs)

    execute_single_task.__wrapped__ = original  # type: ignore[attr-defined]
    task_executor.execute_single_task = execute_single_task
    try:
        yield run
    finally:
        task_executor.execute_single_task = original
        _patch_lock.release()


def _platform_spec_of(pipeline: Any) -> Any:
    from kfp.dsl.graph_component import GraphComponent

    if not isinstance(pipeline, GraphComponent):
        raise TypeError(
            f"run_local expects a pipeline (a function decorated with @dsl.pipeline), got"
            f" {type(pipeline).__name__}; a single component has no Kubernetes config, run it with"
            f" kfp.local directly"
        )
    return pipeline.platform_spec


@contextlib.contextmanager
def _local_config(runner: Any, pipeline_root: str | None) -> Iterator[None]:
    """kfp.local initialised with ``runner`` / ``pipeline_root``; the previous config is restored."""
    from kfp import local
    from kfp.local import cache, config

    previous = config.LocalExecutionConfig.instance
    if previous is not None and runner is None and pipeline_root is None:
        yield
        return
    kwargs: dict[str, Any] = {}
    if previous is not None:
        kwargs = {"raise_on_error": previous.raise_on_error,
                  "enable_caching": getattr(previous, "enable_caching", False),
                  "cache_root": getattr(previous, "cache_root", None)}
    local.init(
        runner=runner if runner is not None else (previous.runner if previous else local.SubprocessRunner()),
        pipeline_root=pipeline_root if pipeline_root is not None else (
            previous.pipeline_root if previous else "./local_outputs"),
        **kwargs,
    )
    try:
        yield
    finally:
        current = config.LocalExecutionConfig.instance
        if current is not None and current.workspace_root and os.path.isdir(current.workspace_root):
            shutil.rmtree(current.workspace_root, ignore_errors=True)
        config.LocalExecutionConfig.instance = previous
        cache.reset_local_cache_singleton()


def run_local(
    pipeline: Any,
    arguments: Mapping[str, Any] | None = None,
    source: str | SecretSource | None = None,
    runner: Any = None,
    pipeline_root: str | None = None,
) -> dict[str, Any]:
    """Run ``pipeline`` with ``kfp.local``, its Kubernetes secrets injected; returns its outputs.

    ``source``: where values come from (default: the configured source, see
    :func:`kfp_nbsecrets.sources.get_source`). ``runner`` / ``pipeline_root``: as for
    ``kfp.local.init`` (used for this run only); without them the current ``kfp.local`` config is
    used, or ``SubprocessRunner()`` and ``./local_outputs`` when kfp.local is not initialised.

    Raises LocalRunSecretError when a secret binding cannot be honoured (the task does not start;
    with ``raise_on_error=False`` in kfp.local the error is logged and ``{}`` is returned), and
    RuntimeError for ordinary task failures, as ``kfp.local`` does.
    """
    arguments = dict(arguments or {})
    with _local_config(runner, pipeline_root), inject_secrets(pipeline, source) as run:
        try:
            task = pipeline(**arguments)
        except RuntimeError as exc:
            if run.failures:
                raise run.failures[0] from exc
            raise
        if run.failures:
            logger.error("local run of %r failed: %s", getattr(pipeline, "name", "pipeline"),
                         run.failures[0])
            return {}
    return dict(task.outputs or {}) if hasattr(task, "outputs") else {}


__all__ = [
    "LocalRunSecretError",
    "bindings_by_executor",
    "bwrap_arguments",
    "inject_secrets",
    "run_local",
    "sandbox_problem",
]
