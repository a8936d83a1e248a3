"""Exceptions raised for secret bindings that would fail on the cluster.

Every message is one line: what is wrong, with the offending value, and how to fix it.
Messages name secrets, keys, env vars and paths only, never a secret's value.
"""

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'a' or 'b'?)`` for the close matches of ``word`` among ``choices``, else ''."""
    matches = difflib.get_close_matches(word, list(choices), n=3, cutoff=cutoff)
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)" if matches else ""


class SecretBindingError(ValueError):
    """A secret binding that Kubernetes or the KFP backend would reject."""


class InvalidSecretNameError(SecretBindingError):
    """A literal secret name that is not a valid Kubernetes object (or volume) name."""


class InvalidSecretKeyError(SecretBindingError):
    """A secret key that Kubernetes would reject."""


class InvalidEnvError(SecretBindingError):
    """An env var mapping that is empty, malformed, or clashes with env already on the task."""


class InvalidMountError(SecretBindingError):
    """A mount path that is not absolute, climbs with '..', or is already used on the task."""


class ChannelError(SecretBindingError):
    """A pipeline channel that the KFP backend cannot resolve to a secret name."""


class TemplateError(SecretBindingError):
    """A '{{...}}' template that is malformed or names an unknown parameter, task or output."""


class NotATaskError(SecretBindingError, TypeError):
    """Something other than a container task of a pipeline was given as the task."""
