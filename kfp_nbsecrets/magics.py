"""The ``%kfp_secret`` line magic: a thin layer that parses a line, calls the core, returns a display.

Each subcommand is a ``cmd_<name>`` method decorated with :func:`subcommand`, which declares its
arguments; the router finds them by name, so later subcommands are just more methods. Every
mistake becomes a one-line ``UsageError``; library errors too, unless
``%config KfpSecretMagics.full_errors = True``.
"""

from __future__ import annotations

import argparse
import difflib
import re
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, needs_local_scope, no_var_expand
from traitlets import Bool, Enum, Float, Unicode, observe

from kfp_nbsecrets.errors import SecretBindingError
from kfp_nbsecrets.tables import Table

GRAMMAR = """\
%kfp_secret SUBCOMMAND ...

Inside a @dsl.pipeline function body:
  %kfp_secret env TASK SECRET KEY=ENV [KEY=ENV ...] [--optional]
  %kfp_secret mount TASK SECRET PATH [--optional]

Outside pipelines:
  %kfp_secret bind PIPELINE TASK SECRET (--env KEY=ENV ... | --mount PATH)
                   [--param NAME] [--default VALUE] [--optional]
  %kfp_secret unbind PIPELINE TASK [SECRET]
  %kfp_secret bindings PIPELINE
  %kfp_secret list [--namespace NS] [--source local|k8s|memory] [--filter TEXT]
  %kfp_secret keys SECRET [--namespace NS] [--source local|k8s|memory]
  %kfp_secret preview PIPELINE
  %kfp_secret lint PIPELINE_OR_FILE
  %kfp_secret store add NAME KEY [KEY ...]     (values by hidden prompt)
  %kfp_secret store import FILE                (a Secret manifest or a .env file)
  %kfp_secret store rm NAME
  %kfp_secret store ls
  %kfp_secret help [SUBCOMMAND]

SECRET is a literal name, '{{PARAM}}' (a pipeline parameter), '{{tasks.TASK.OUTPUT}}' (a task
output) or, inside a pipeline, the name of a parameter or loop variable in scope. Secret values
are never written on a magic line.
"""

Argument = tuple[tuple[str, ...], dict[str, Any]]


def arg(*names: str, **options: Any) -> Argument:
    return names, options


def subcommand(summary: str, *arguments: Argument) -> Callable:
    """Mark a ``cmd_<name>`` method as the ``<name>`` subcommand, with its argparse arguments."""
    def mark(method: Callable) -> Callable:
        method.summary = summary
        method.arguments = arguments
        return method
    return mark


class _Stop(Exception):
    """argparse asked to exit (after printing --help)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one-line UsageErrors instead of SystemExit."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}; see %kfp_secret help {self.prog.split()[-1]}")

    def exit(self, status: int = 0, message: str | None = None):
        raise _Stop


def _key_to_env(text: str) -> tuple[str, str]:
    key, sep, env = text.partition("=")
    if not sep or not key or not env:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=ENV, e.g. password=DB_PASSWORD")
    return key, env


_SOURCE_CHOICES = ("local", "k8s", "memory")


@magics_class
class KfpSecretMagics(Magics):
    """The ``%kfp_secret`` magic; its traits are set with ``%config KfpSecretMagics.<trait> = ...``."""

    source = Enum(_SOURCE_CHOICES, default_value="local", config=True,
                  help="Where secret names and keys come from: the local store, Kubernetes, or memory.")
    namespace = Unicode(None, allow_none=True, config=True,
                        help="Kubernetes namespace (default: the kubeconfig context's namespace).")
    kube_context = Unicode(None, allow_none=True, config=True, help="kubeconfig context to use.")
    store_dir = Unicode(None, allow_none=True, config=True,
                        help="Directory of the local store (default: ~/.config/kfp-nbsecrets/secrets).")
    timeout = Float(5.0, config=True, help="Seconds to wait for the Kubernetes API.")
    kfp_host = Unicode(None, allow_none=True, config=True,
                       help="KFP API endpoint for runs (default: KF_PIPELINES_ENDPOINT or in-cluster).")
    full_errors = Bool(False, config=True,
                       help="Show library errors with their traceback instead of one line.")

    @observe("source", "namespace", "kube_context", "store_dir", "timeout")
    def _push_source_settings(self, change) -> None:
        from kfp_nbsecrets import sources

        name = {"kube_context": "context"}.get(change["name"], change["name"])
        sources.configure(**{name: change["new"]})

    @no_var_expand
    @needs_local_scope
    @line_magic
    def kfp_secret(self, line: str, local_ns: dict | None = None):
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise UsageError(f"cannot split the line: {error}; check the quotes") from None
        if not words:
            raise UsageError("missing subcommand; see %kfp_secret help")
        name, rest = words[0], words[1:]
        method = getattr(self, f"cmd_{name.replace('-', '_')}", None)
        if method is None or not hasattr(method, "summary"):
            raise UsageError(f"unknown subcommand {name!r}{_did_you_mean(name, self.subcommands())};"
                             " see %kfp_secret help")
        try:
            args = self._parser(name, method).parse_args(rest)
        except _Stop:
            return None
        try:
            return method(args, local_ns if local_ns is not None else self.shell.user_ns)
        except UsageError:
            raise
        except Exception as error:
            if self.full_errors:
                raise
            raise UsageError(_one_line(error)) from None

    kfp_secret.__doc__ = GRAMMAR

    def subcommands(self) -> list[str]:
        return sorted(name[4:].replace("_", "-") for name in dir(type(self))
                      if name.startswith("cmd_") and hasattr(getattr(self, name), "summary"))

    def _parser(self, name: str, method: Callable) -> _Parser:
        parser = _Parser(prog=f"%kfp_secret {name}", description=method.summary, add_help=True)
        for names, options in method.arguments:
            if names == ("subcommands",):
                sub = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
                for action, (summary, arguments) in options.items():
                    action_parser = sub.add_parser(action, help=summary, description=summary)
                    for action_names, action_options in arguments:
                        action_parser.add_argument(*action_names, **action_options)
            else:
                parser.add_argument(*names, **options)
        return parser

    # -- inside pipelines -------------------------------------------------------------------------

    @subcommand(
        "Expose keys of a secret as env vars of a task (inside a @dsl.pipeline function).",
        arg("task", metavar="TASK", help="the task variable"),
        arg("secret", metavar="SECRET", help="literal name, {{PARAM}}, {{tasks.TASK.OUTPUT}}, or a variable"),
        arg("mapping", metavar="KEY=ENV", nargs="+", type=_key_to_env, help="secret key to env var name"),
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
            raise UsageError(f"no task variable {name!r} in this pipeline{_did_you_mean(name, tasks)}")
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

    # -- secrets ------------------------------------------------------------------------------------

    @subcommand(
        "List secrets: names, types and key names (never values).",
        arg("--namespace", metavar="NS"),
        arg("--source", choices=_SOURCE_CHOICES),
        arg("--filter", metavar="TEXT", help="only names containing TEXT"),
        arg("--all", action="store_true", help="include service-account tokens and Helm releases"),
    )
    def cmd_list(self, args: argparse.Namespace, scope: dict) -> Table:
        source = self._source(args.source)
        infos = source.list_secrets(args.namespace, include_system=args.all)
        if args.filter:
            infos = [info for info in infos if args.filter.lower() in info.name.lower()]
        where = source.describe() + (f", namespace {args.namespace}" if args.namespace else "")
        return _secrets_table(f"Secrets in {where}", infos, "no secrets")

    @subcommand(
        "Show the key names of one secret.",
        arg("secret", metavar="SECRET"),
        arg("--namespace", metavar="NS"),
        arg("--source", choices=_SOURCE_CHOICES),
    )
    def cmd_keys(self, args: argparse.Namespace, scope: dict) -> Table:
        source = self._source(args.source)
        keys = source.keys(args.secret, args.namespace)
        return Table(f"Keys of secret {args.secret!r} in {source.describe()}", ("key",),
                     [(key,) for key in keys], empty="no keys")

    @subcommand(
        "Manage the local store: add (hidden prompts), import, rm, ls.",
        arg("subcommands", **{
            "add": ("Add a secret; each KEY's value is asked with a hidden prompt.", (
                arg("name", metavar="NAME"), arg("keys", metavar="KEY", nargs="+"),
                arg("--replace", action="store_true", help="overwrite an existing secret"))),
            "import": ("Import a Secret manifest, or a .env file as secret --name.", (
                arg("file", metavar="FILE"),
                arg("--name", help="secret name for a .env file"),
                arg("--replace", action="store_true", help="overwrite existing secrets"))),
            "rm": ("Remove a secret from the store.", (arg("name", metavar="NAME"),)),
            "ls": ("List the secrets in the store.", ()),
        }),
    )
    def cmd_store(self, args: argparse.Namespace, scope: dict) -> Table | None:
        import getpass

        store = self._source("local")
        if args.action == "add":
            store.add_from_prompt(args.name, args.keys, prompt=getpass.getpass, replace=args.replace)
            print(f"Stored secret {args.name!r} with keys {', '.join(args.keys)} in {store.describe()}")
        elif args.action == "import":
            if args.name or args.file.endswith(".env") or args.file.split("/")[-1].startswith(".env"):
                if not args.name:
                    raise UsageError(f"{args.file!r} is a .env file; give the secret's name with --name NAME")
                infos = [store.import_dotenv(args.file, args.name, replace=args.replace)]
            else:
                infos = store.import_manifest(args.file, replace=args.replace)
            print(f"Imported {', '.join(repr(i.name) for i in infos)} into {store.describe()}")
        elif args.action == "rm":
            store.remove(args.name)
            print(f"Removed secret {args.name!r} from {store.describe()}")
        else:
            return _secrets_table(f"Secrets in {store.describe()}", store.list_secrets(include_system=True),
                                  "the store is empty; add one with %kfp_secret store add NAME KEY")
        return None

    def _source(self, kind: str | None):
        from kfp_nbsecrets import sources

        return sources.get_source(kind)

    # -- help ---------------------------------------------------------------------------------------

    @subcommand("Show the grammar, or the options of one subcommand.",
                arg("topic", metavar="SUBCOMMAND", nargs="?"))
    def cmd_help(self, args: argparse.Namespace, scope: dict) -> None:
        if args.topic is None:
            summaries = "\n".join(f"  {name:<10} {getattr(self, 'cmd_' + name.replace('-', '_')).summary}"
                                  for name in self.subcommands())
            print(f"{GRAMMAR}\nSubcommands:\n{summaries}")
            return
        method = getattr(self, f"cmd_{args.topic.replace('-', '_')}", None)
        if method is None or not hasattr(method, "summary"):
            raise UsageError(f"unknown subcommand {args.topic!r}"
                             f"{_did_you_mean(args.topic, self.subcommands())}")
        print(self._parser(args.topic, method).format_help())


def _secrets_table(title: str, infos, empty: str) -> Table:
    return Table(title, ("name", "type", "keys"), [(i.name, i.type, ", ".join(i.keys)) for i in infos], empty)


def _did_you_mean(word: str, choices) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)" if matches else ""


def _one_line(error: Exception) -> str:
    """A library error as one line; unexpected ones say how to see the traceback."""
    from kfp_nbsecrets.sources import SourceError

    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, SecretBindingError | SourceError):
        return text
    return f"{type(error).__name__}: {text} (for the traceback: %config KfpSecretMagics.full_errors = True)"


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(KfpSecretMagics)
