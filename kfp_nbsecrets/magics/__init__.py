"""The ``%kfp_secret`` line magic: a thin layer that parses a line, calls the core, returns a display.

Each subcommand is a ``cmd_<name>`` method decorated with :func:`~kfp_nbsecrets.magics.router.subcommand`,
which declares its arguments; the router finds them by name, so a new subcommand is one more
method, usually in a mixin module of this package. The grammar (``%kfp_secret?``, ``help``, the
README) is generated from those declarations. A mistake on the line, and every error of the package
(:class:`~kfp_nbsecrets.errors.KfpNbSecretsError`), is a one-line ``UsageError`` (with
``%config KfpSecretMagics.full_errors = True``, the package's errors keep their traceback); any other
exception is a bug and keeps its traceback, as in IPython's own magics.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class, needs_local_scope, no_var_expand
from traitlets import Bool, Enum, Float, Unicode, observe

from kfp_nbsecrets.errors import KfpNbSecretsError, one_line
from kfp_nbsecrets.magics.attach_commands import AttachCommands
from kfp_nbsecrets.magics.pick_commands import PickCommands
from kfp_nbsecrets.magics.router import (
    IN_PIPELINE,
    OUTSIDE,
    SOURCE_CHOICES,
    HelpShown,
    arg,
    build_parser,
    close_matches,
    grammar_lines,
    subcommand,
)
from kfp_nbsecrets.magics.run_commands import RunCommands
from kfp_nbsecrets.magics.secret_commands import SecretCommands

NOTES = """\
SECRET is a literal name, '{{PARAM}}' (a pipeline parameter), '{{tasks.TASK.OUTPUT}}' (a task
output) or, inside a pipeline body, a Python expression in the function's scope: a parameter, a
loop item, a task output such as 'producer.output'. Secret values are never written on a magic line.
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
            args = build_parser(name, method).parse_args(rest)
        except HelpShown:
            return None
        try:
            return method(args, local_ns if local_ns is not None else self.shell.user_ns)
        except KfpNbSecretsError as error:
            if self.full_errors:
                raise
            raise UsageError(one_line(error)) from None

    def _command(self, name: str) -> Callable:
        method = getattr(self, f"cmd_{name.replace('-', '_')}", None)
        if method is None or not hasattr(method, "summary"):
            raise UsageError(f"unknown subcommand {name!r}{close_matches(name, self.subcommands())};"
                             " see %kfp_secret help")
        return method

    @classmethod
    def subcommands(cls) -> list[str]:
        """Subcommand names in grammar order: each mixin's, in definition order, this class's last."""
        owners = [*cls.__mro__[1:], cls]
        return [name[4:].replace("_", "-") for owner in owners for name, value in vars(owner).items()
                if name.startswith("cmd_") and hasattr(value, "summary")]

    @classmethod
    def grammar(cls) -> str:
        """The grammar of every subcommand, generated from their parsers (``%kfp_secret?``, README)."""
        lines = ["%kfp_secret SUBCOMMAND ..."]
        for section in (IN_PIPELINE, OUTSIDE):
            lines += ["", section]
            for name in cls.subcommands():
                method = getattr(cls, f"cmd_{name.replace('-', '_')}")
                if method.section == section:
                    lines += grammar_lines(name, method)
        return "\n".join(lines) + "\n\n" + NOTES

    # -- help ---------------------------------------------------------------------------------------

    @subcommand("Show the grammar, or the options of one subcommand.",
                arg("topic", metavar="SUBCOMMAND", nargs="?"))
    def cmd_help(self, args: argparse.Namespace, scope: dict) -> None:
        if args.topic is None:
            summaries = "\n".join(f"  {name:<10} {self._command(name).summary}"
                                  for name in self.subcommands())
            print(f"{self.grammar()}\nSubcommands:\n{summaries}")
            return
        print(build_parser(args.topic, self._command(args.topic)).format_help())


KfpSecretMagics.kfp_secret.__doc__ = KfpSecretMagics.grammar()


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(KfpSecretMagics)
