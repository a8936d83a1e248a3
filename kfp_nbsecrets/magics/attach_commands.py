"""Subcommands that attach secrets to pipeline tasks."""

from __future__ import annotations

import argparse
import re

from IPython.core.error import UsageError

from kfp_nbsecrets.magics.router import arg, did_you_mean, key_to_env, subcommand


class AttachCommands:
    """``env`` and ``mount`` inside pipeline bodies."""

    # -- inside pipelines -------------------------------------------------------------------------

    @subcommand(
        "Expose keys of a secret as env vars of a task (inside a @dsl.pipeline function).",
        arg("task", metavar="TASK", help="the task variable"),
        arg("secret", metavar="SECRET", help="literal name, {{PARAM}}, {{tasks.TASK.OUTPUT}}, or a variable"),
        arg("mapping", metavar="KEY=ENV", nargs="+", type=key_to_env, help="secret key to env var name"),
        arg("--optional", action="store_true", help="run even if the secret is missing"),
    )
    def cmd_env(self, args: argparse.Namespace, scope: dict) -> None:
        from kfp_nbsecrets.attach import use_secret_as_env

        task = self._task_in(scope, args.task, "env")
        use_secret_as_env(task, self._secret_in(scope, args.secret), dict(args.mapping), args.optional)

    @subcommand(
        "Mount a secret as files in a task (inside a @dsl.pipeline function).",
        arg("task", metavar="TASK", help="the task variable"),
        arg("secret", metavar="SECRET", help="literal name, {{PARAM}}, {{tasks.TASK.OUTPUT}}, or a variable"),
        arg("path", metavar="PATH", help="absolute mount path, e.g. /var/run/secrets/db"),
        arg("--optional", action="store_true", help="run even if the secret is missing"),
    )
    def cmd_mount(self, args: argparse.Namespace, scope: dict) -> None:
        from kfp_nbsecrets.attach import use_secret_as_volume

        task = self._task_in(scope, args.task, "mount")
        use_secret_as_volume(task, self._secret_in(scope, args.secret), args.path, args.optional)

    def _task_in(self, scope: dict, name: str, action: str):
        from kfp.dsl import PipelineTask, pipeline_context

        if pipeline_context.Pipeline.get_default_pipeline() is None:
            raise UsageError(f"%kfp_secret {action} works inside a @dsl.pipeline function; outside one,"
                             f" use %kfp_secret bind PIPELINE TASK SECRET ...")
        if name not in scope:
            tasks = [k for k, v in scope.items() if isinstance(v, PipelineTask)]
            raise UsageError(f"no task variable {name!r} in this pipeline{did_you_mean(name, tasks)}")
        task = scope[name]
        if not isinstance(task, PipelineTask):
            raise UsageError(f"{name!r} is a {type(task).__name__}, not a task; assign the component"
                             f" call to a variable, e.g. {name} = my_component(...)")
        return task

    def _secret_in(self, scope: dict, secret: str):
        """A variable in scope (parameter, loop item, task output) or the text itself."""
        from kfp.dsl.pipeline_channel import PipelineChannel

        if secret.isidentifier() and secret in scope:
            value = scope[secret]
            if isinstance(value, PipelineChannel | str):
                return value
            raise UsageError(f"{secret!r} is a {type(value).__name__}; SECRET must be a secret name,"
                             f" '{{{{PARAM}}}}', or a parameter, loop item or task output in scope")
        single = re.fullmatch(r"\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}", secret)
        if single:
            raise UsageError(f"{secret!r} has single braces; write '{{{{{single[1]}}}}}' for a template")
        return secret
