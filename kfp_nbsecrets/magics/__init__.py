"""The ``%kfp_secret`` line magic: a thin layer that parses a line, calls the core, returns a display.

Each subcommand is a ``cmd_<name>`` method decorated with :func:`~kfp_nbsecrets.magics.router.subcommand`,
which declares its arguments; the router finds them by name, so a new subcommand is one more
method, usually in a mixin module of this package. Every
mistake becomes a one-line ``UsageError``; library errors too, unless
``%config KfpSecretMagics.full_errors = True``.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, needs_local_scope, no_var_expand
from traitlets import Bool, Enum, Float, Unicode, observe

from kfp_nbsecrets.magics.attach_commands import AttachCommands
from kfp_nbsecrets.magics.pick_commands import PickCommands
from kfp_nbsecrets.magics.router import SOURCE_CHOICES, Parser, Stop, arg, did_you_mean, one_line, subcommand
from kfp_nbsecrets.magics.run_commands import RunCommands
from kfp_nbsecrets.magics.secret_commands import SecretCommands

GRAMMAR = """\
%kfp_secret SUBCOMMAND ...

Inside a @dsl.pipeline function body:
  %kfp_secret env TASK SECRET KEY=ENV [KEY=ENV ...] [--optional]
  %kfp_secret mount TASK SECRET PATH [--optional]

Outside pipelines:
  %kfp_secret bind PIPELINE TASK SECRET (--env KEY=ENV ... | --mount PATH)
                   [--param NAME] [--default VALUE] [--optional] [--keep-cache]
  %kfp_secret unbind PIPELINE TASK [SECRET]
  %kfp_secret bindings PIPELINE
  %kfp_secret list [--namespace NS] [--source local|k8s|memory] [--filter TEXT] [--all]
  %kfp_secret keys SECRET [--namespace NS] [--source local|k8s|memory]
  %kfp_secret preview PIPELINE
  %kfp_secret lint PIPELINE_OR_FILE
  %kfp_secret check PIPELINE [--arg NAME=VALUE ...] [--namespace NS] [--source local|k8s|memory]
  %kfp_secret run PIPELINE [--arg NAME=VALUE ...] [--experiment E] [--run-name N] [--namespace NS]
                  [--wait [--timeout S]] [--no-check] [--local] [--no-resolve [--legacy-secret-name]]
                  [--drop-optional]
  %kfp_secret schedule PIPELINE --cron CRON [--arg NAME=VALUE ...] [--max-concurrency N] [--name N]
                       [--experiment E] [--namespace NS] [--no-catchup] [--no-check]
                       [--no-resolve [--legacy-secret-name]] [--drop-optional]
  %kfp_secret upload PIPELINE [--name N] [--version V] [--description TEXT] [--namespace NS]
                     [--drop-optional]
  %kfp_secret pick [PIPELINE] [--source local|k8s|memory] [--namespace NS]
  %kfp_secret store add NAME KEY [KEY ...] [--replace]   (each value by hidden prompt)
  %kfp_secret store import FILE [--name NAME] [--replace] (a Secret manifest, or a .env file as NAME)
  %kfp_secret store rm NAME
  %kfp_secret store ls
  %kfp_secret help [SUBCOMMAND]

SECRET is a literal name, '{{PARAM}}' (a pipeline parameter), '{{tasks.TASK.OUTPUT}}' (a task
output) or, inside a pipeline, the name of a parameter or loop variable in scope. Secret values
are never written on a magic line.
"""


@magics_class
class KfpSecretMagics(AttachCommands, SecretCommands, PickCommands, RunCommands, Magics):
    """The ``%kfp_secret`` magic; its traits are set with ``%config KfpSecretMagics.<trait> = ...``."""

    source = Enum(SOURCE_CHOICES, default_value="local", config=True,
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
        method = self._command(name)
        try:
            args = self._parser(name, method).parse_args(rest)
        except Stop:
            return None
        try:
            return method(args, local_ns if local_ns is not None else self.shell.user_ns)
        except UsageError:
            raise
        except Exception as error:
            if self.full_errors:
                raise
            raise UsageError(one_line(error)) from None

    kfp_secret.__doc__ = GRAMMAR

    def _command(self, name: str) -> Callable:
        method = getattr(self, f"cmd_{name.replace('-', '_')}", None)
        if method is None or not hasattr(method, "summary"):
            raise UsageError(f"unknown subcommand {name!r}{did_you_mean(name, self.subcommands())};"
                             " see %kfp_secret help")
        return method

    def subcommands(self) -> list[str]:
        return sorted(name[4:].replace("_", "-") for name in dir(type(self))
                      if name.startswith("cmd_") and hasattr(getattr(self, name), "summary"))

    def _parser(self, name: str, method: Callable) -> Parser:
        parser = Parser(prog=f"%kfp_secret {name}", description=method.summary, add_help=True)
        for names, options in method.arguments:
            if names == ("subcommands",):
                sub = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
                for action, (summary, arguments) in options.items():
                    action_parser = sub.add_parser(action, help=summary, description=summary)
                    for action_names, action_options in arguments:
                        action_parser.add_argument(*action_names, **action_options)
            else:
                parser.add_argument(*names, **options)
        return parser

    # -- help ---------------------------------------------------------------------------------------

    @subcommand("Show the grammar, or the options of one subcommand.",
                arg("topic", metavar="SUBCOMMAND", nargs="?"))
    def cmd_help(self, args: argparse.Namespace, scope: dict) -> None:
        if args.topic is None:
            summaries = "\n".join(f"  {name:<10} {self._command(name).summary}"
                                  for name in self.subcommands())
            print(f"{GRAMMAR}\nSubcommands:\n{summaries}")
            return
        print(self._parser(args.topic, self._command(args.topic)).format_help())


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(KfpSecretMagics)
