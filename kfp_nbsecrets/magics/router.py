"""The pieces every ``%kfp_secret`` subcommand is declared with, and the router's error handling."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from kfp_nbsecrets import errors
from kfp_nbsecrets.errors import SecretBindingError

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


class Stop(Exception):
    """argparse asked to exit (after printing --help)."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one-line UsageErrors instead of SystemExit."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}; see %kfp_secret help {self.prog.split()[-1]}")

    def exit(self, status: int = 0, message: str | None = None):
        raise Stop


SOURCE_CHOICES = ("local", "k8s", "memory")


def key_to_env(text: str) -> tuple[str, str]:
    """argparse type of a ``KEY=ENV`` word."""
    key, sep, env = text.partition("=")
    if not sep or not key or not env:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=ENV, e.g. password=DB_PASSWORD")
    return key, env


def did_you_mean(word: str, choices) -> str:
    """Close matches of a word typed on a magic line (a looser cutoff: short words)."""
    return errors.did_you_mean(word, choices, cutoff=0.5)


def one_line(error: Exception) -> str:
    """A library error as one line; unexpected ones say how to see the traceback."""
    from kfp_nbsecrets.sources import SourceError

    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, SecretBindingError | SourceError):
        return text
    return f"{type(error).__name__}: {text} (for the traceback: %config KfpSecretMagics.full_errors = True)"


