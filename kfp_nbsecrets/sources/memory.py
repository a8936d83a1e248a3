"""An in-memory secret source for examples and tests."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

from kfp_nbsecrets.sources import InvalidValueError, SecretInfo, SecretNotFound, SecretSource


def _as_bytes(value: str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise InvalidValueError(f"secret values must be str or bytes, got {type(value).__name__}")


class MemorySource(SecretSource):
    """Secrets held in this process: ``MemorySource({"db": {"user": "me", "password": ...}})``.

    ``types`` and ``labels`` map a secret name to its type (default "Opaque") and labels.
    Namespaces are ignored: every secret is reported in ``namespace``.
    """

    kind = "memory"

    def __init__(
        self,
        secrets: Mapping[str, Mapping[str, str | bytes]] | None = None,
        *,
        types: Mapping[str, str] | None = None,
        labels: Mapping[str, Mapping[str, str]] | None = None,
        namespace: str | None = None,
    ) -> None:
        self.namespace = namespace
        self._values: dict[str, dict[str, bytes]] = {}
        self._infos: dict[str, SecretInfo] = {}
        for name, values in (secrets or {}).items():
            self.add(name, values, type=(types or {}).get(name, "Opaque"), labels=(labels or {}).get(name))

    def add(
        self,
        name: str,
        values: Mapping[str, str | bytes],
        *,
        type: str = "Opaque",
        labels: Mapping[str, str] | None = None,
    ) -> SecretInfo:
        """Add or replace a secret; returns its info."""
        self._values[name] = {key: _as_bytes(value) for key, value in values.items()}
        info = SecretInfo(
            name=name,
            namespace=self.namespace,
            type=type,
            keys=tuple(sorted(values)),
            labels=dict(labels or {}),
            created=datetime.datetime.now(datetime.timezone.utc),
        )
        self._infos[name] = info
        return info

    def remove(self, name: str) -> None:
        """Forget a secret; raises SecretNotFound."""
        if name not in self._infos:
            raise SecretNotFound(f"secret {name!r} not found in {self.describe()}; nothing to remove")
        del self._infos[name], self._values[name]

    def describe(self) -> str:
        return f"in-memory source ({len(self._infos)} secrets)"

    def _iter_secrets(self, namespace: str | None) -> Iterable[SecretInfo]:
        return list(self._infos.values())

    def _find(self, name: str, namespace: str | None) -> SecretInfo | None:
        return self._infos.get(name)

    def _read_values(self, name: str, namespace: str | None) -> Mapping[str, bytes]:
        if name not in self._values:
            self.get(name, namespace)  # raises SecretNotFound with the usual message
        return dict(self._values[name])
