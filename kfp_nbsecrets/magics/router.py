"""How ``%kfp_secret`` subcommands are declared, parsed, and described in the generated grammar.

A subcommand is a ``cmd_<name>`` method marked with :func:`subcommand`, which records its summary,
its argparse arguments (:func:`arg`, :func:`one_of`, :func:`actions`) and its section of the
grammar. The parser of each subcommand is built from that record, and so are ``%kfp_secret?``,
``%kfp_secret help`` and the grammar in the README: they cannot drift from what is accepted.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any

from IPython.core.error import UsageError

from kfp_nbsecrets.errors import did_you_mean

Argument = tuple[tuple[str, ...], dict[str, Any]]

IN_PIPELINE = "Inside a @dsl.pipeline function body:"
OUTSIDE = "Outside pipelines:"
SOURCE_CHOICES = ("local", "k8s", "memory")
_ONE_OF, _ACTIONS = "__one_of__", "__actions__"
WIDTH = 104


def arg(*names: str, **options: Any) -> Argument:
    """One argparse argument: ``arg("--namespace", metavar="NS")``."""
    return names, options


def one_of(*arguments: Argument, required: bool = True) -> Argument:
    """Arguments of which exactly one (at most one, unless ``required``) may be given."""
    return (_ONE_OF,), {"arguments": arguments, "required": required}


def actions(**choices: tuple[str, tuple[Argument, ...]]) -> Argument:
    """Sub-actions (``store add|import|rm|ls``): name → (summary, arguments)."""
    return (_ACTIONS,), {"choices": choices}


def subcommand(summary: str, *arguments: Argument, section: str = OUTSIDE, note: str = "") -> Callable:
    """Mark a ``cmd_<name>`` method as the ``<name>`` subcommand (``note``: shown after its grammar)."""
    def mark(method: Callable) -> Callable:
        method.summary, method.arguments, method.section, method.note = summary, arguments, section, note
        return method
    return mark


class HelpShown(Exception):  # noqa: N818 - not an error: argparse printed --help and asked to exit
    """argparse printed the help of a subcommand and asked to exit."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one-line UsageErrors instead of SystemExit."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}; see %kfp_secret help {self.prog.split()[1]}")

    def exit(self, status: int = 0, message: str | None = None):
        raise HelpShown


def build_parser(name: str, method: Callable) -> Parser:
    """The parser of subcommand ``name`` from its declaration."""
    parser = Parser(prog=f"%kfp_secret {name}", description=method.summary, add_help=True)
    _add(parser, method.arguments)
    return parser


def _add(parser: argparse.ArgumentParser, arguments: Iterable[Argument]) -> None:
    for names, options in arguments:
        if names == (_ONE_OF,):
            group = parser.add_mutually_exclusive_group(required=options["required"])
            for inner_names, inner_options in options["arguments"]:
                group.add_argument(*inner_names, **inner_options)
        elif names == (_ACTIONS,):
            sub = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
            for action, (summary, inner) in options["choices"].items():
                _add(sub.add_parser(action, help=summary, description=summary), inner)
        else:
            parser.add_argument(*names, **options)


def grammar_lines(name: str, method: Callable) -> list[str]:
    """The grammar of one subcommand, e.g. ``%kfp_secret keys SECRET [--namespace NS] ...``."""
    parser = build_parser(name, method)
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if subparsers:
        lines = []
        for action, sub in subparsers[0].choices.items():
            lines += _wrap(f"%kfp_secret {name} {action}", _words(sub), sub.description or "")
        return lines
    return _wrap(f"%kfp_secret {name}", _words(parser), method.note)


def _words(parser: argparse.ArgumentParser) -> list[str]:
    """Positionals first, then options, as in ``TASK SECRET KEY=ENV [KEY=ENV ...] [--optional]``."""
    grouped = {id(action): group for group in parser._mutually_exclusive_groups
               for action in group._group_actions}
    positionals = [a for a in parser._actions if not a.option_strings]
    optionals = [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]
    words, done = [_positional(a) for a in positionals], set()
    for action in optionals:
        group = grouped.get(id(action))
        if group is None:
            words.append(_optional(action) if action.required else f"[{_optional(action)}]")
        elif id(group) not in done:
            done.add(id(group))
            inner = " | ".join(_optional(a) for a in group._group_actions)
            words.append(f"({inner})" if group.required else f"[{inner}]")
    return words


def _positional(action: argparse.Action) -> str:
    metavar = action.metavar or action.dest.upper()
    return {"+": f"{metavar} [{metavar} ...]", "?": f"[{metavar}]", "*": f"[{metavar} ...]"}.get(
        action.nargs, metavar)


def _optional(action: argparse.Action) -> str:
    flag = max(action.option_strings, key=len)
    if action.nargs == 0:
        return flag
    metavar = action.metavar or ("|".join(action.choices) if action.choices else action.dest.upper())
    if action.nargs == "+":
        return f"{flag} {metavar} [{metavar} ...]"
    if isinstance(action, argparse._AppendAction):
        return f"{flag} {metavar} ..."
    return f"{flag} {metavar}"


def _wrap(head: str, words: list[str], note: str) -> list[str]:
    """``head`` and ``words`` on lines of at most :data:`WIDTH`, continued under the first word."""
    lines, line = [], "  " + head
    indent = " " * (len(head.split()[0]) + len(head.split()[1]) + 4)
    for word in words:
        if len(line) + 1 + len(word) > WIDTH and line.strip() != head:
            lines.append(line)
            line = indent + word
        else:
            line += " " + word
    lines.append(line + (f"   ({note})" if note else ""))
    return lines


def close_matches(word: str, choices: Iterable[str]) -> str:
    """Close matches of a word typed on a magic line (a looser cutoff than elsewhere: short words)."""
    return did_you_mean(word, choices, cutoff=0.5)


def key_to_env(text: str) -> tuple[str, str]:
    """argparse type of a ``KEY=ENV`` word."""
    key, sep, env = text.partition("=")
    if not sep or not key or not env:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=ENV, e.g. password=DB_PASSWORD")
    return key, env
