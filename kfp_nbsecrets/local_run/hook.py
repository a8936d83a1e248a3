"""The kfp.local hook: each task of a local run receives its Kubernetes secrets as it starts (see the
package docstring)."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import errno
import inspect
import logging
import os
import threading
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from kfp_nbsecrets import entries, refs, rules
from kfp_nbsecrets.entries import SecretEntry
from kfp_nbsecrets.errors import KfpNbSecretsError, NotAPipelineError
from kfp_nbsecrets.local_run import sandbox
from kfp_nbsecrets.local_run.processes import TaskProcesses
from kfp_nbsecrets.sources import (
    MissingKeysError,
    SecretNotFound,
    SecretSource,
    SourceError,
    get_source,
)

logger = logging.getLogger(__name__)

TEMP_PREFIX = sandbox.TEMP_PREFIX  # name prefix of the private root in TMPDIR (see sandbox)


class LocalRunError(KfpNbSecretsError, RuntimeError):
    """A local run with secrets could not be started or finished."""


class LocalRunSecretError(LocalRunError):
    """A secret binding of a local run could not be honoured; the task did not start.

    The message is one line and names the task, the secret and the key (or the directory that
    could not take the secret files), never a value.
    """

    def __init__(self, message: str, *, task: str = "", secret: str | None = None,
                 key: str | None = None) -> None:
        super().__init__(message)
        self.task = task
        self.secret = secret
        self.key = key


@dataclasses.dataclass
class _Prepared:
    """What one task execution receives: env values and volume mounts (source dir, mount path)."""

    env: dict[str, str] = dataclasses.field(default_factory=dict)
    volumes: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    tempdir: str | None = None
    texts: list[str] = dataclasses.field(default_factory=list)  # every value as text, to mask in output

    def __repr__(self) -> str:  # never show values
        return f"<_Prepared env={sorted(self.env)} volumes={[p for _, p in self.volumes]}>"


def ignored_settings(platform_spec: Any) -> dict[str, list[str]]:
    """Executor label → the Kubernetes settings a local run cannot honour (all but secrets)."""
    ignored = {label: sorted(set(config) - set(entries.FIELDS.values()))
               for label, config in entries.executor_configs(platform_spec).items()}
    return {label: fields for label, fields in ignored.items() if fields}


def entries_by_executor(platform_spec: Any) -> dict[str, list[SecretEntry]]:
    """Executor label → its secret entries that name a secret (a PlatformSpec message or its dict)."""
    found = {label: [entry for entry in listed if entry.reference is not None]
             for label, _, listed in entries.by_executor(platform_spec)}
    return {label: listed for label, listed in found.items() if listed}


class _Fail(Exception):
    """Internal: a binding cannot be honoured; carries the LocalRunSecretError to report."""

    def __init__(self, error: LocalRunSecretError) -> None:
        super().__init__(str(error))
        self.error = error


# --------------------------------------------------------------------------------------------
# the hook

class _Injection:
    """State of one local run with secrets: the entries, the source, and the secret failures."""

    def __init__(self, bindings: dict[str, list[SecretEntry]], source: str | SecretSource | None) -> None:
        self.entries = bindings
        self._source_spec = source
        self._source: SecretSource | None = source if isinstance(source, SecretSource) else None
        self.failures: list[LocalRunSecretError] = []
        self.processes = TaskProcesses()
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

    # resolution, exactly as the driver: in the task's parent-DAG scope, at task start
    def resolve_name(self, task: str, binding: SecretEntry, io_store: Any) -> str | None:
        ref = binding.reference
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
                    f"task {task!r}: the secret name comes from {refs.describe(binding.reference)}, which"
                    f" has no value in the task's scope; pass that parameter or make the task run after the"
                    f" producer", task=task)) from None
            if value is None:
                return None  # an optional parameter left unset: the driver skips the entry
        if not isinstance(value, str) or not value:
            shown = "an empty string" if value == "" else f"a {type(value).__name__}"
            raise _Fail(LocalRunSecretError(
                f"task {task!r}: the secret name from {refs.describe(binding.reference)} resolved to {shown};"
                f" a secret name must be a non-empty string", task=task))
        return value

    def prepare(self, task: str, label: str, io_store: Any) -> _Prepared:
        prepared = _Prepared()
        try:
            for binding in self.entries.get(label, []):
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

    def _read(self, task: str, name: str, binding: SecretEntry, keys: list[str] | None,
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
            env = dict(binding.env).get(key or "")
            detail = f" (for env var {env!r})" if env else ""
            raise _Fail(LocalRunSecretError(
                f"task {task!r}: secret {name!r} has no key {key!r}{detail} in"
                f" {self.source.describe()}; add the key or mark the binding optional=True",
                task=task, secret=name, key=key)) from None
        except SourceError as exc:
            raise _Fail(LocalRunSecretError(
                f"task {task!r}: secret {name!r} could not be read ({what}): {exc}",
                task=task, secret=name)) from None

    def _prepare_env(self, task: str, name: str, binding: SecretEntry, prepared: _Prepared) -> None:
        keys = [key for key, _ in binding.env]
        first = binding.env[0] if binding.env else ("", "")
        values = self._read(task, name, binding, keys, f"key {first[0]!r} for env var {first[1]!r}")
        if values is None:
            return
        for key, env in binding.env:
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
            prepared.texts.append(text)

    def _prepare_volume(self, task: str, name: str, binding: SecretEntry, prepared: _Prepared) -> None:
        path = binding.mount_path
        if problem := rules.mount_path_problem(path):
            raise _Fail(LocalRunSecretError(f"task {task!r}: secret {name!r}: {problem}",
                                            task=task, secret=name))
        if sandbox.real_target(path) == "/":
            raise _Fail(LocalRunSecretError(f"task {task!r}: secret {name!r} cannot be mounted at '/'",
                                            task=task, secret=name))
        values = self._read(task, name, binding, None, f"to mount at {path!r}")
        if values is None:
            return
        for key in values:
            if problem := rules.secret_key_problem(key):
                raise _Fail(LocalRunSecretError(f"task {task!r}: secret {name!r}: {problem}",
                                                task=task, secret=name, key=key))
        prepared.texts.extend(value.decode("utf-8", "replace") for value in values.values())
        with _writing(task):
            if prepared.tempdir is None:
                prepared.tempdir = sandbox.make_private_dir()
            directory = os.path.join(prepared.tempdir, f"volume-{len(prepared.volumes)}")
            os.mkdir(directory, 0o700)
            for key, value in values.items():
                fd = os.open(os.path.join(directory, key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(value)
        prepared.volumes.append((directory, path))


@contextlib.contextmanager
def _writing(task: str) -> Iterator[None]:
    """An OSError while writing a task's secret files (a full TMPDIR...) fails the task, naming both."""
    try:
        yield
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        raise _Fail(LocalRunSecretError(
            f"task {task!r}: cannot write its secret files to {sandbox.private_root()!r}:"
            f" {exc.strerror or exc}; {'free space there or ' if full else ''}set TMPDIR to another"
            f" directory", task=task)) from None


def _remove(prepared: _Prepared) -> None:
    if prepared.tempdir is not None:
        sandbox.remove_private_dir(prepared.tempdir)
        prepared.tempdir = None
    prepared.env.clear()
    prepared.texts.clear()


def _patched_call(run: _Injection, original: Any, signature: inspect.Signature, args: tuple,
                  kwargs: dict) -> Any:
    from kfp.local import config, status

    bound = signature.bind(*args, **kwargs)
    params = bound.arguments
    task = params["task_name"]
    if run.processes.interrupted:  # the run was interrupted: start nothing more
        return {}, status.Status.FAILURE
    task_spec = params["task_spec"]
    label = params["components"][task_spec.component_ref.name].executor_label
    if label not in run.entries:
        with run.processes.task(task):
            return original(*args, **kwargs)

    runner = params["runner"]
    executors = dict(params["executors"])
    executor = copy.deepcopy(executors[label])
    prepared = _Prepared()
    try:
        try:
            prepared = run.prepare(task, label, params["io_store"])
            if prepared.volumes and isinstance(runner, config.SubprocessRunner):
                problem = sandbox.sandbox_problem()
                if problem is None:
                    try:
                        options = sandbox.bwrap_arguments(prepared.volumes, os.getcwd())
                    except ValueError as exc:
                        problem = str(exc)
                if problem:
                    raise _Fail(LocalRunSecretError(
                        f"task {task!r}: cannot mount secret volume(s) at"
                        f" {[path for _, path in prepared.volumes]}: {problem}", task=task))
                with _writing(task):
                    sandbox.wrap_command(executor, prepared.tempdir, options)
            elif prepared.volumes:
                runner = sandbox.docker_runner_with_mounts(runner, prepared.volumes)
        except _Fail as failure:
            run.fail(failure.error)
            logger.error("%s", failure.error)
            return {}, status.Status.FAILURE
        for env, text in prepared.env.items():
            executor.container.env.add(name=env, value=text)
        new_task_spec = copy.deepcopy(task_spec)
        new_task_spec.caching_options.enable_cache = False
        executors[label] = executor
        params.update(executors=executors, task_spec=new_task_spec, runner=runner)
        with run.processes.task(task, prepared.texts):
            return original(*bound.args, **bound.kwargs)
    finally:
        _remove(prepared)


def _platform_spec_of(pipeline: Any) -> Any:
    from kfp.dsl.graph_component import GraphComponent

    if not isinstance(pipeline, GraphComponent):
        raise NotAPipelineError(
            f"run_local expects a pipeline (a function decorated with @dsl.pipeline), got"
            f" {type(pipeline).__name__}; a single component has no Kubernetes config, run it with"
            f" kfp.local directly"
        )
    return pipeline.platform_spec


_run_lock = threading.Lock()


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """One local run with secrets at a time in this process; a concurrent one raises LocalRunError."""
    if not _run_lock.acquire(blocking=False):
        raise LocalRunError("another local run with secrets is in progress in this process;"
                            " run one at a time")
    try:
        yield
    finally:
        _run_lock.release()


def new_injection(pipeline: Any, source: str | SecretSource | None, stacklevel: int = 2) -> _Injection:
    """The injection state for ``pipeline``; warns about the Kubernetes settings kfp.local ignores."""
    platform_spec = _platform_spec_of(pipeline)
    if ignored := ignored_settings(platform_spec):
        listed = "; ".join(f"{label}: {', '.join(fields)}" for label, fields in sorted(ignored.items()))
        warnings.warn(f"kfp.local ignores these Kubernetes settings, so the local run goes without them:"
                      f" {listed}", stacklevel=stacklevel + 1)
    return _Injection(entries_by_executor(platform_spec), source)


@contextlib.contextmanager
def patched(run: _Injection) -> Iterator[_Injection]:
    """kfp.local's task start goes through ``run`` (secrets, process groups); restored on exit."""
    from kfp.local.orchestrator import task_executor

    original = task_executor.execute_single_task
    signature = inspect.signature(original)

    def execute_single_task(*args: Any, **kwargs: Any) -> Any:
        return _patched_call(run, original, signature, args, kwargs)

    execute_single_task.__wrapped__ = original  # type: ignore[attr-defined]
    task_executor.execute_single_task = execute_single_task
    try:
        with run.processes.patched():
            yield run
    finally:
        task_executor.execute_single_task = original


@contextlib.contextmanager
def inject_secrets(pipeline: Any, source: str | SecretSource | None = None) -> Iterator[_Injection]:
    """While active, ``kfp.local`` runs of ``pipeline`` receive its secrets (see the module doc).

    Patches ``kfp.local.orchestrator.task_executor.execute_single_task`` and
    ``kfp.local.subprocess_task_handler.run_local_subprocess`` and restores them on exit; every
    task process still running then is killed. Only one run at a time: a second, concurrent
    ``inject_secrets`` or ``run_local`` raises LocalRunError.
    """
    with exclusive():
        run = new_injection(pipeline, source, stacklevel=3)
        with patched(run):
            yield run
