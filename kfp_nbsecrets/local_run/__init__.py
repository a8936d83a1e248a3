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
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from typing import Any

from kfp_nbsecrets.local_run.hook import LocalRunError, LocalRunSecretError, inject_secrets
from kfp_nbsecrets.sources import SecretSource

logger = logging.getLogger(__name__)


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


__all__ = ["LocalRunError", "LocalRunSecretError", "inject_secrets", "run_local"]
