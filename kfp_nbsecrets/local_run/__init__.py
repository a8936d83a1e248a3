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

Every task process runs in its own process group, killed when the task ends, on SIGINT and when
the run ends in any way (:mod:`kfp_nbsecrets.local_run.processes`). A failing task's error names
the task and the last line it printed, with the values it received masked.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from kfp_nbsecrets.errors import ConfigurationError, one_line
from kfp_nbsecrets.local_run import hook
from kfp_nbsecrets.local_run.hook import LocalRunError, LocalRunSecretError, inject_secrets
from kfp_nbsecrets.sources import SecretSource

logger = logging.getLogger(__name__)

_VENV_HINT = ("; this runner builds a venv and pip-installs the task's packages, which needs network:"
              " run_local(..., runner=kfp.local.SubprocessRunner(use_venv=False)) uses the kernel's"
              " environment")


def default_runner() -> Any:
    """The runner when kfp.local is not initialised: a subprocess in the kernel's own environment.

    kfp.local's own default (``SubprocessRunner()``) builds a venv per task and pip-installs kfp
    into it, which fails without network after many seconds.
    """
    from kfp import local

    return local.SubprocessRunner(use_venv=False)


@contextlib.contextmanager
def _local_config(runner: Any, pipeline_root: str | None) -> Iterator[Any]:
    """kfp.local initialised with ``runner`` / ``pipeline_root`` (yields the runner in use); the
    previous config is restored and the workspace made for this run removed."""
    from kfp import local
    from kfp.local import cache, config

    previous = config.LocalExecutionConfig.instance
    if previous is not None and runner is None and pipeline_root is None:
        yield previous.runner
        return
    if runner is None:
        runner = previous.runner if previous is not None else default_runner()
    if not isinstance(runner, (local.SubprocessRunner, local.DockerRunner)):
        raise ConfigurationError(f"runner must be a kfp.local.SubprocessRunner or DockerRunner, got"
                                 f" {type(runner).__name__}")
    kwargs: dict[str, Any] = {}
    if previous is not None:
        kwargs = {"raise_on_error": previous.raise_on_error,
                  "enable_caching": getattr(previous, "enable_caching", False),
                  "cache_root": getattr(previous, "cache_root", None)}
    try:
        workspace = tempfile.mkdtemp(prefix="kfp-workspace-")
    except OSError as exc:
        raise LocalRunError(f"cannot create kfp.local's workspace in {tempfile.gettempdir()!r}:"
                            f" {exc.strerror or exc}; free space there or set TMPDIR") from None
    try:
        local.init(runner=runner, workspace_root=workspace,
                   pipeline_root=pipeline_root if pipeline_root is not None else (
                       previous.pipeline_root if previous is not None else "./local_outputs"),
                   **kwargs)
        yield runner
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
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
    used, or :func:`default_runner` and ``./local_outputs`` when kfp.local is not initialised.

    Raises LocalRunSecretError when a secret binding cannot be honoured (the task does not start),
    LocalRunError when a task fails (naming the task and its last line of output) or another run
    is in progress. With ``raise_on_error=False`` in kfp.local the error is logged and ``{}`` is
    returned. Every process of the run is killed when it ends, also on KeyboardInterrupt.
    """
    arguments = dict(arguments or {})
    with hook.exclusive():  # before anything changes kfp.local's global config
        run = hook.new_injection(pipeline, source)
        with _local_config(runner, pipeline_root) as used_runner, hook.patched(run):
            try:
                task = pipeline(**arguments)
            except RuntimeError as exc:
                raise _failure(pipeline, run, used_runner, exc) from exc
            if run.failures or run.processes.exits:
                logger.error("%s", _failure(pipeline, run, used_runner, None))
                return {}
    return dict(task.outputs or {}) if hasattr(task, "outputs") else {}


def _failure(pipeline: Any, run: Any, runner: Any, exc: RuntimeError | None) -> LocalRunError:
    """The error that says why the run failed: a secret failure, else the first failing task's cause."""
    if run.failures:
        return run.failures[0]
    if run.processes.exits:
        first = run.processes.exits[0]
        hint = _VENV_HINT if getattr(runner, "use_venv", False) else ""
        return LocalRunError(f"task {first.task!r} failed (exit code {first.returncode}):"
                             f" {first.cause}{hint}")
    name = getattr(pipeline, "name", "pipeline")
    return LocalRunError(f"local run of {name!r} failed: {one_line(exc) if exc else 'unknown cause'}")


__all__ = ["LocalRunError", "LocalRunSecretError", "default_runner", "inject_secrets", "run_local"]
