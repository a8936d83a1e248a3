"""The error root of kfp-nbsecrets, the errors of secret bindings, and the "did you mean" helper.

Every exception the package raises on purpose derives from :class:`KfpNbSecretsError`: a user
mistake or a refusal, with a one-line message that says what is wrong (naming secrets, keys, env
vars, paths or files, never a secret's value) and how to fix it. The magic, the CLI and the picker
show these as one line; any other exception is a bug and keeps its traceback. Where a built-in
exception type fits too (``ValueError``, ``TypeError``), the class also derives from it.
"""

import difflib
import re
from collections.abc import Iterable


class KfpNbSecretsError(Exception):
    """Root of every error kfp-nbsecrets raises on purpose."""


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'a' or 'b'?)`` for the close matches of ``word`` among ``choices``, else ''."""
    matches = difflib.get_close_matches(word, list(choices), n=3, cutoff=cutoff)
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)" if matches else ""


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


QUOTE_LIMIT = 60


def quote(value: object) -> str:
    """``repr(value)`` for a message, at most about 60 characters: a long value keeps its start and end.

    Every message that quotes a user's value goes through here, so a 100,000-character name is
    never echoed in full (say the length and the limit next to it when a length is the problem).
    """
    if isinstance(value, str) and len(value) > QUOTE_LIMIT:
        return repr(value[:QUOTE_LIMIT - 16] + "\u2026" + value[-12:])
    text = repr(value)
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT - 1] + "\u2026"


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line, without terminal colour codes."""
    return " ".join(_ANSI.sub("", str(error)).split()) or type(error).__name__


class PipelineSourceError(KfpNbSecretsError, ValueError):
    """A pipeline could not be read: not a file, not YAML, not a compiled pipeline."""


class NotAPipelineError(KfpNbSecretsError, TypeError):
    """Something other than a pipeline (function, YAML or documents) was given as the pipeline."""


class ArgumentError(KfpNbSecretsError, ValueError):
    """A run argument that the pipeline does not declare, or whose value does not parse."""


class ConfigurationError(KfpNbSecretsError, ValueError):
    """A setting (source, timeout, backend version...) that has no meaning."""


class SecretBindingError(KfpNbSecretsError, ValueError):
    """A secret binding that Kubernetes or the KFP backend would reject."""


class InvalidNameError(SecretBindingError):
    """A literal name that the Kubernetes API server rejects (a Secret, ConfigMap or pod volume name)."""


class InvalidSecretNameError(InvalidNameError):
    """A literal secret name that is not a valid Kubernetes object (or volume) name."""


class InvalidSecretKeyError(SecretBindingError):
    """A secret key that Kubernetes would reject."""


class InvalidEnvError(SecretBindingError):
    """An env var mapping that is empty or malformed, or an env var already set on the task by
    another kind of source (which the API server rejects)."""


class InvalidMountError(SecretBindingError):
    """A volume mount the pod cannot have: an empty path, '/', the KFP launcher's path, or one pod
    volume name given to two kinds of volume."""


class ChannelError(SecretBindingError):
    """A pipeline channel that the KFP backend cannot resolve to a secret name."""


class TemplateError(SecretBindingError):
    """A '{{...}}' template that is malformed or names an unknown parameter, task or output."""


class NotATaskError(SecretBindingError, TypeError):
    """Something other than a container task of a pipeline was given as the task."""


class KubernetesWarning(UserWarning):
    """Kubernetes accepts this, but only in some versions or with a result that may surprise
    (a relaxed env var name, a relative mount path, an env var set twice); the message names
    the versions or the outcome. Lint reports the same cases as warnings."""
