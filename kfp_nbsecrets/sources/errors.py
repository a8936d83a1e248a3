"""Errors of secret sources: one line each, never holding a value."""

from kfp_nbsecrets.errors import KfpNbSecretsError


class SourceError(KfpNbSecretsError):
    """Base of all errors raised by secret sources; messages are one line and never hold a value."""


class SecretNotFound(SourceError):
    """The secret does not exist in the source."""


class MissingKeysError(SourceError):
    """The secret exists but lacks some of the requested keys."""


class NamespaceNotFound(SourceError):
    """The Kubernetes namespace does not exist."""


class AccessDenied(SourceError):
    """The credentials are missing, expired, or not allowed (RBAC) to do this."""


class SourceUnavailable(SourceError):
    """The source cannot be reached or loaded: no kubeconfig, connection refused, timeout, TLS failure."""


class InsecureStoreError(SourceError):
    """A local store file or directory is readable by other users or owned by someone else."""


class StoreFormatError(SourceError):
    """A local store file (or a file to import) is not a valid Secret manifest or dotenv file."""


class ValuesNotSerializable(SourceError, TypeError):
    """Secret values were about to be pickled (they are read again where they are needed instead)."""


class InvalidValueError(SourceError, TypeError):
    """A secret value given to a source is neither str nor bytes."""


class SecretExistsError(SourceError):
    """Secrets that already exist in the local store were written again without asking to replace them.

    ``names`` and ``where`` let a caller say the fix in its own words (the magic says ``--replace``).
    """

    def __init__(self, names: tuple[str, ...], where: str) -> None:
        self.names, self.where = tuple(names), where
        super().__init__(self.explain("pass replace=True to overwrite"))

    def explain(self, fix: str) -> str:
        """The message, ending with ``fix`` (e.g. "add --replace to overwrite")."""
        listed = ", ".join(repr(name) for name in self.names)
        if len(self.names) == 1:
            return f"secret {listed} already exists in {self.where}; {fix} it"
        return f"secrets {listed} already exist in {self.where}; nothing was written; {fix} them"

    def __reduce__(self) -> tuple[type, tuple[tuple[str, ...], str]]:
        return type(self), (self.names, self.where)


class PromptCancelled(SourceError):
    """The user ended a hidden value prompt (Ctrl-D / end of input): nothing was stored."""


class StoreBusyError(SourceError):
    """Another process held the local store's lock for longer than the store waits."""


class StoreWriteError(SourceError):
    """The local store could not be written (disk full, read-only, permission denied): nothing was changed."""
