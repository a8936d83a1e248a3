"""Where secret names and key names (and, only for local runs, values) come from.

Three sources share one interface, :class:`SecretSource`: a Kubernetes namespace (official client),
a local store of Secret manifests on disk (the default, needs no cluster) and an in-memory source.
Listing results (:class:`SecretInfo`) never hold values; values are read only by
:meth:`SecretSource.read_values_for_local_run`, never cached, and hidden from reprs.

Importing this package is cheap: the kubernetes client is imported only when a Kubernetes source is built.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

SYSTEM_SECRET_TYPES = frozenset({"kubernetes.io/service-account-token", "helm.sh/release.v1"})
SOURCE_KINDS = ("local", "k8s", "memory")
_ENVIRONMENT_SETTINGS = ("KUBECONFIG", "KFP_NBSECRETS_STORE", "XDG_CONFIG_HOME")


class SourceError(Exception):
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


@dataclasses.dataclass(frozen=True)
class SecretInfo:
    """What a listing tells about one secret: never its values."""

    name: str
    namespace: str | None
    type: str
    keys: tuple[str, ...]
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
    created: datetime.datetime | None = None


class SecretValues(Mapping[str, bytes]):
    """Values of one secret, read for a local run; its repr names the keys only."""

    __slots__ = ("_name", "_values")

    def __init__(self, name: str, values: Mapping[str, bytes]) -> None:
        self._name = name
        self._values = dict(values)

    def __getitem__(self, key: str) -> bytes:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"<SecretValues of {self._name!r}: keys {sorted(self._values)} (values hidden)>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("secret values cannot be pickled; read them again where they are needed")


def is_system_secret(secret_type: str) -> bool:
    """Service-account tokens and Helm release records: hidden from listings unless asked for."""
    return secret_type in SYSTEM_SECRET_TYPES


class SecretSource(abc.ABC):
    """One place secrets live in. Subclasses implement the three ``_`` methods."""

    #: Short kind name: "k8s", "local" or "memory".
    kind: str = ""
    #: Namespace used when a method gets none (``None``: the source has no namespaces).
    namespace: str | None = None

    @abc.abstractmethod
    def describe(self) -> str:
        """Where this source reads from, for messages (e.g. "local store /home/me/.config/...")."""

    @abc.abstractmethod
    def _iter_secrets(self, namespace: str | None) -> Iterable[SecretInfo]:
        """All secrets of the namespace, system ones included, in any order."""

    @abc.abstractmethod
    def _find(self, name: str, namespace: str | None) -> SecretInfo | None:
        """One secret, or None when it does not exist."""

    @abc.abstractmethod
    def _read_values(self, name: str, namespace: str | None) -> Mapping[str, bytes]:
        """All values of one secret; raises SecretNotFound."""

    def _namespace(self, namespace: str | None) -> str | None:
        return namespace if namespace is not None else self.namespace

    def _where(self, namespace: str | None) -> str:
        return f"namespace {namespace!r} of {self.describe()}" if namespace else self.describe()

    def list_secrets(self, namespace: str | None = None, *, include_system: bool = False) -> list[SecretInfo]:
        """Secrets sorted by name; service-account tokens and Helm releases only with ``include_system``."""
        infos = self._iter_secrets(self._namespace(namespace))
        return sorted(
            (info for info in infos if include_system or not is_system_secret(info.type)),
            key=lambda info: (info.name, info.namespace or ""),
        )

    def get(self, name: str, namespace: str | None = None) -> SecretInfo:
        """The secret's info (no values); raises SecretNotFound."""
        namespace = self._namespace(namespace)
        info = self._find(name, namespace)
        if info is None:
            raise SecretNotFound(
                f"secret {name!r} not found in {self._where(namespace)}; check the name or create it"
            )
        return info

    def exists(self, name: str, namespace: str | None = None) -> bool:
        return self._find(name, self._namespace(namespace)) is not None

    def keys(self, name: str, namespace: str | None = None) -> tuple[str, ...]:
        """Key names of the secret, sorted; raises SecretNotFound."""
        return self.get(name, namespace).keys

    def missing_keys(self, name: str, keys: Iterable[str], namespace: str | None = None) -> list[str]:
        """Which of ``keys`` the secret lacks (in the given order); raises SecretNotFound."""
        present = set(self.keys(name, namespace))
        return [key for key in keys if key not in present]

    def check(self, name: str, keys: Iterable[str] = (), namespace: str | None = None) -> SecretInfo:
        """The secret's info if it exists and has all ``keys``; raises SecretNotFound or MissingKeysError."""
        info = self.get(name, namespace)
        missing = [key for key in keys if key not in info.keys]
        if missing:
            raise MissingKeysError(
                f"secret {name!r} in {self._where(self._namespace(namespace))} has no key(s) {missing};"
                f" it has {list(info.keys)}"
            )
        return info

    def read_values_for_local_run(
        self, name: str, keys: Iterable[str] | None = None, namespace: str | None = None
    ) -> SecretValues:
        """Read values (bytes) of ``keys`` (default: all) to inject into a local run. Never cached."""
        namespace = self._namespace(namespace)
        values = self._read_values(name, namespace)
        wanted = list(values) if keys is None else list(keys)
        missing = [key for key in wanted if key not in values]
        if missing:
            raise MissingKeysError(
                f"secret {name!r} in {self._where(namespace)} has no key(s) {missing};"
                f" it has {sorted(values)}"
            )
        return SecretValues(name, {key: values[key] for key in wanted})

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


@dataclasses.dataclass
class SourceSettings:
    """Which source :func:`get_source` builds, and its options."""

    source: str | SecretSource = "local"
    namespace: str | None = None
    store_dir: str | None = None
    context: str | None = None
    kubeconfig: str | None = None
    timeout: float = 5.0


_settings = SourceSettings()
_shared_memory: SecretSource | None = None
_cached: tuple[tuple[Any, ...], SecretSource] | None = None


def configure(**changes: Any) -> SourceSettings:
    """Change the default source settings; returns them. Keys: see :class:`SourceSettings`.

    ``source`` is "local" (default store on disk), "k8s", "memory", or a ready :class:`SecretSource`.
    """
    fields = {field.name for field in dataclasses.fields(SourceSettings)}
    unknown = sorted(set(changes) - fields)
    if unknown:
        raise TypeError(f"unknown source setting(s) {unknown}; use some of {sorted(fields)}")
    source = changes.get("source", _settings.source)
    if not isinstance(source, SecretSource) and source not in SOURCE_KINDS:
        raise ValueError(f"unknown source {source!r}; use one of {list(SOURCE_KINDS)} or a SecretSource")
    timeout = changes.get("timeout", _settings.timeout)
    if not isinstance(timeout, int | float) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    for name, value in changes.items():
        setattr(_settings, name, value)
    return dataclasses.replace(_settings)


def current_settings() -> SourceSettings:
    """A copy of the current settings."""
    return dataclasses.replace(_settings)


def reset_configuration() -> None:
    """Back to the defaults (local store, no namespace override); forgets the shared memory source."""
    global _settings, _shared_memory, _cached
    _settings, _shared_memory, _cached = SourceSettings(), None, None


def get_source(source: str | SecretSource | None = None, **overrides: Any) -> SecretSource:
    """The configured source, or the one named by ``source``, with setting ``overrides`` for this call."""
    global _shared_memory, _cached
    settings = dataclasses.replace(_settings, **overrides)
    kind = settings.source if source is None else source
    if isinstance(kind, SecretSource):
        return kind
    if kind == "memory":
        if _shared_memory is None:
            from kfp_nbsecrets.sources.memory import MemorySource

            _shared_memory = MemorySource(namespace=settings.namespace)
        return _shared_memory
    environment = tuple(os.environ.get(name) for name in _ENVIRONMENT_SETTINGS)
    key = (kind, dataclasses.astuple(settings)[1:], environment)
    if _cached is not None and _cached[0] == key:
        return _cached[1]
    if kind == "local":
        from kfp_nbsecrets.sources.local import LocalStore

        built: SecretSource = LocalStore(settings.store_dir, namespace=settings.namespace)
    elif kind == "k8s":
        from kfp_nbsecrets.sources.kube import KubernetesSource

        built = KubernetesSource(
            namespace=settings.namespace,
            context=settings.context,
            config_file=settings.kubeconfig,
            timeout=settings.timeout,
        )
    else:
        raise ValueError(f"unknown source {kind!r}; use one of {list(SOURCE_KINDS)} or a SecretSource")
    _cached = (key, built)
    return built


__all__ = [
    "AccessDenied",
    "InsecureStoreError",
    "MissingKeysError",
    "NamespaceNotFound",
    "SecretInfo",
    "SecretNotFound",
    "SecretSource",
    "SecretValues",
    "SourceError",
    "SourceSettings",
    "SourceUnavailable",
    "StoreFormatError",
    "configure",
    "current_settings",
    "get_source",
    "is_system_secret",
    "reset_configuration",
]
