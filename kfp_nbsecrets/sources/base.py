"""What every secret source shares: the listing record, the values wrapper, and the source interface."""

from __future__ import annotations

import abc
import dataclasses
import datetime
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kfp_nbsecrets.sources.errors import AccessDenied, MissingKeysError, SecretNotFound, ValuesNotSerializable

SYSTEM_SECRET_TYPES = frozenset({"kubernetes.io/service-account-token", "helm.sh/release.v1"})


@dataclasses.dataclass(frozen=True)
class SecretInfo:
    """What a source tells about one secret: never its values.

    ``keys`` are the key names, sorted, or None when they were not read: a Kubernetes listing is metadata
    only and tells how many keys a secret has (``key_count``) but not their names, which
    :meth:`SecretSource.get` / :meth:`SecretSource.keys` read. ``keys_unavailable`` says why they cannot be
    read (e.g. the missing RBAC permission) when a read was refused.
    """

    name: str
    namespace: str | None
    type: str
    keys: tuple[str, ...] | None
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
    created: datetime.datetime | None = None
    key_count: int | None = None
    keys_unavailable: str | None = None

    def __post_init__(self) -> None:
        if self.keys is not None and self.key_count is None:
            object.__setattr__(self, "key_count", len(self.keys))

    def keys_text(self) -> str:
        """The key names ("password, user"), else how many there are ("2 keys"), for tables."""
        if self.keys is not None:
            return ", ".join(self.keys)
        if self.key_count is None:
            return "keys not read"
        return f"{self.key_count} key{'' if self.key_count == 1 else 's'}"


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
        raise ValuesNotSerializable("secret values cannot be pickled; read them again where they are needed")


def _known_keys(info: SecretInfo) -> tuple[str, ...]:
    if info.keys is None:
        raise AccessDenied(info.keys_unavailable or f"key names of secret {info.name!r} were not read")
    return info.keys


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
        """The secret's info (no values) with its key names unless unreadable (``keys_unavailable``);
        raises SecretNotFound."""
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
        """Key names of the secret, sorted; raises SecretNotFound, or AccessDenied if they cannot be read."""
        return _known_keys(self.get(name, namespace))

    def missing_keys(self, name: str, keys: Iterable[str], namespace: str | None = None) -> list[str]:
        """Which of ``keys`` the secret lacks (in the given order); raises SecretNotFound."""
        present = set(self.keys(name, namespace))
        return [key for key in keys if key not in present]

    def check(self, name: str, keys: Iterable[str] = (), namespace: str | None = None) -> SecretInfo:
        """The secret's info if it exists and has all ``keys``; raises SecretNotFound or MissingKeysError."""
        info = self.get(name, namespace)
        present = _known_keys(info)
        missing = [key for key in keys if key not in present]
        if missing:
            raise MissingKeysError(
                f"secret {name!r} in {self._where(self._namespace(namespace))} has no key(s) {missing};"
                f" it has {list(present)}"
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
