"""Subcommands that attach secrets to pipeline tasks."""

from __future__ import annotations

import argparse
import ast
import os
import re

from IPython.core.error import UsageError

from kfp_nbsecrets import validate
from kfp_nbsecrets.magics.router import IN_PIPELINE, arg, close_matches, key_to_env, one_of, subcommand
from kfp_nbsecrets.tables import Table


class AttachCommands:
    """``env`` and ``mount`` inside pipeline bodies; ``bind``, ``unbind``, ``bindings``, ``preview``
    and ``lint`` on defined pipelines."""

    # -- inside pipelines -------------------------------------------------------------------------

    @subcommand(
        "Expose keys of a secret as env vars of a task (inside a @dsl.pipeline function).",
        arg("task", metavar="TASK", help="the task variable"),
        arg("secret", metavar="SECRET", help="literal name, {{PARAM}}, {{tasks.TASK.OUTPUT}}, or an"
            " expression in scope (a parameter, a loop item, producer.output)"),
        arg("mapping", metavar="KEY=ENV", nargs="+", type=key_to_env, help="secret key to env var name"),
        arg("--optional", action="store_true", help="run even if the secret is missing"),
        section=IN_PIPELINE,
    )
    def cmd_env(self, args: argparse.Namespace, scope: dict) -> None:
        from kfp_nbsecrets.attach import use_secret_as_env

        task = self._task_in(scope, args.task, "env")
        use_secret_as_env(task, _secret_in(scope, args.secret), validate.mapping_from_pairs(args.mapping),
                          args.optional)

    @subcommand(
        "Mount a secret as files in a task (inside a @dsl.pipeline function).",
        arg("task", metavar="TASK", help="the task variable"),
        arg("secret", metavar="SECRET", help="literal name, {{PARAM}}, {{tasks.TASK.OUTPUT}}, or an"
            " expression in scope (a parameter, a loop item, producer.output)"),
        arg("path", metavar="PATH", help="absolute mount path, e.g. /var/run/secrets/db"),
        arg("--optional", action="store_true", help="run even if the secret is missing"),
        section=IN_PIPELINE,
    )
    def cmd_mount(self, args: argparse.Namespace, scope: dict) -> None:
        from kfp_nbsecrets.attach import use_secret_as_volume

        task = self._task_in(scope, args.task, "mount")
        use_secret_as_volume(task, _secret_in(scope, args.secret), args.path, args.optional)

    def _task_in(self, scope: dict, name: str, action: str):
        from kfp.dsl import PipelineTask, pipeline_context

        if pipeline_context.Pipeline.get_default_pipeline() is None:
            raise UsageError(f"%kfp_secret {action} works inside a @dsl.pipeline function; outside one,"
                             f" use %kfp_secret bind PIPELINE TASK SECRET ...")
        if name not in scope:
            tasks = [k for k, v in scope.items() if isinstance(v, PipelineTask)]
            raise UsageError(f"no task variable {name!r} in this pipeline{close_matches(name, tasks)}")
        task = scope[name]
        if not isinstance(task, PipelineTask):
            raise UsageError(f"{name!r} is a {type(task).__name__}, not a task; assign the component"
                             f" call to a variable, e.g. {name} = my_component(...)")
        return task

    # -- outside pipelines ----------------------------------------------------------------------

    @subcommand(
        "Bind a secret to a task of a defined pipeline (changes the pipeline in place).",
        arg("pipeline", metavar="PIPELINE", help="a @dsl.pipeline function (variable name)"),
        arg("task", metavar="TASK", help="task path, e.g. for-loop-2/train, or a unique task name"),
        arg("secret", metavar="SECRET", help="literal name, {{PARAM}} or {{tasks.TASK.OUTPUT}}"),
        one_of(arg("--env", metavar="KEY=ENV", nargs="+", type=key_to_env, help="secret key to env var name"),
               arg("--mount", metavar="PATH", help="absolute mount path"),
               arg("--image-pull", action="store_true",
                   help="an image pull secret of the task's pod (a kubernetes.io/dockerconfigjson Secret)")),
        arg("--param", metavar="NAME", help="add a pipeline parameter NAME that names the secret"),
        arg("--default", metavar="VALUE", help="default of --param (default: SECRET)"),
        arg("--optional", action="store_true", help="run even if the secret is missing"),
        arg("--keep-cache", action="store_true", help="keep the task's caching for a parameterized name"),
    )
    def cmd_bind(self, args: argparse.Namespace, scope: dict) -> Table:
        from kfp_nbsecrets.bind import bind

        if args.default is not None and args.param is None:
            raise UsageError("--default needs --param NAME: it is the default of that new parameter")
        pipeline = self._pipeline_in(scope, args.pipeline)
        env = validate.mapping_from_pairs(args.env) if args.env else None
        bind(pipeline, args.task, args.secret, env=env, mount_path=args.mount, image_pull=args.image_pull,
             optional=args.optional, param=args.param, default=args.default, keep_cache=args.keep_cache)
        return self._bindings_table(pipeline, args.pipeline)

    @subcommand(
        "Remove secret bindings from a task of a defined pipeline.",
        arg("pipeline", metavar="PIPELINE"),
        arg("task", metavar="TASK"),
        arg("secret", metavar="SECRET", nargs="?", help="only this secret (default: all of the task's)"),
    )
    def cmd_unbind(self, args: argparse.Namespace, scope: dict) -> Table:
        from kfp_nbsecrets.bind import unbind

        pipeline = self._pipeline_in(scope, args.pipeline)
        unbind(pipeline, args.task, args.secret)
        return self._bindings_table(pipeline, args.pipeline)

    @subcommand("Show every secret binding of a pipeline.", arg("pipeline", metavar="PIPELINE"))
    def cmd_bindings(self, args: argparse.Namespace, scope: dict) -> Table:
        return self._bindings_table(self._pipeline_in(scope, args.pipeline, files=True), args.pipeline)

    @subcommand("Preview a pipeline's tasks, secrets, lint findings and IR.",
                arg("pipeline", metavar="PIPELINE", help="a pipeline variable or a compiled YAML file"))
    def cmd_preview(self, args: argparse.Namespace, scope: dict):
        from kfp_nbsecrets.display import preview

        return preview(self._pipeline_in(scope, args.pipeline, files=True))

    @subcommand("Lint the secret bindings of a pipeline or a compiled YAML file.",
                arg("pipeline", metavar="PIPELINE_OR_FILE"))
    def cmd_lint(self, args: argparse.Namespace, scope: dict) -> Table:
        from kfp_nbsecrets.display import findings_table
        from kfp_nbsecrets.lint import lint

        findings = lint(self._pipeline_in(scope, args.pipeline, files=True))
        return findings_table(findings, f"Lint of {args.pipeline}")

    def _pipeline_in(self, scope: dict, name: str, files: bool = False):
        """The pipeline a user named: a variable of the notebook (or, with ``files``, a YAML path)."""
        from kfp.dsl.graph_component import GraphComponent

        if name in scope:
            value = scope[name]
            if isinstance(value, GraphComponent) or (files and isinstance(value, str | dict | os.PathLike)):
                return value
            raise UsageError(f"{name!r} is a {type(value).__name__}, not a @dsl.pipeline function")
        if files and os.path.isfile(name):
            return name
        pipelines = [k for k, v in scope.items() if isinstance(v, GraphComponent) and not k.startswith("_")]
        what = "pipeline variable or compiled YAML file" if files else "pipeline variable"
        raise UsageError(f"no {what} {name!r}{close_matches(name, pipelines)}; define it with @dsl.pipeline"
                         + (" or give the path of a compiled YAML file" if files else ""))

    def _bindings_table(self, pipeline, name: str) -> Table:
        from kfp_nbsecrets import display, ir

        return display.bindings_table(ir.read_pipeline(pipeline), f"Secret bindings of {name}")


def _secret_in(scope: dict, text: str):
    """SECRET of an in-body line, as the Python API would get it: a template or a literal name stays
    text; a name, attribute or subscript rooted in a variable of the pipeline function's scope
    (``db_secret``, ``item.secret``, ``producer.output``, ``producer.outputs['name']``) is evaluated."""
    single = re.fullmatch(r"\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}", text)
    if single:
        raise UsageError(f"{text!r} has single braces; write '{{{{{single[1]}}}}}' for a template")
    try:
        expression = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text
    root = expression
    while isinstance(root, ast.Attribute | ast.Subscript):
        if isinstance(root, ast.Subscript) and not isinstance(root.slice, ast.Constant):
            return text
        root = root.value
    if not isinstance(root, ast.Name) or root.id not in scope:
        return text
    return _evaluate(expression, scope)


def _evaluate(node: ast.expr, scope: dict):
    """The value of a name / attribute / constant-subscript chain, with a one-line error for a typo."""
    if isinstance(node, ast.Name):
        return scope[node.id]
    owner = _evaluate(node.value, scope)
    shown = ast.unparse(node)
    if isinstance(node, ast.Attribute):
        if not hasattr(owner, node.attr):
            public = [name for name in dir(owner) if not name.startswith("_")]
            raise UsageError(f"SECRET {shown!r}: {type(owner).__name__} {ast.unparse(node.value)!r} has no"
                             f" attribute {node.attr!r}{close_matches(node.attr, public)}")
        return getattr(owner, node.attr)
    key = node.slice.value
    try:
        return owner[key]
    except (KeyError, IndexError, TypeError):
        known = [str(k) for k in owner] if isinstance(owner, dict) else []
        raise UsageError(f"SECRET {shown!r}: {ast.unparse(node.value)!r} has no item {key!r}"
                         f"{close_matches(str(key), known)}") from None
