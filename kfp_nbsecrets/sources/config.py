"""Which source :func:`get_source` builds, and the settings it builds it with."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from kfp_nbsecrets.errors import ConfigurationError
from kfp_nbsecrets.sources.base import SecretSource

SOURCE_KINDS = ("local", "k8s", "memory")
_ENVIRONMENT_SETTINGS = ("KUBECONFIG", "KFP_NBSECRETS_STORE", "XDG_CONFIG_HOME")


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
        raise ConfigurationError(f"unknown source setting(s) {unknown}; use some of {sorted(fields)}")
    source = changes.get("source", _settings.source)
    if not isinstance(source, SecretSource) and source not in SOURCE_KINDS:
        raise unknown_source(source)
    timeout = changes.get("timeout", _settings.timeout)
    if not isinstance(timeout, int | float) or not timeout > 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, got {timeout!r}")
    for name, value in changes.items():
        setattr(_settings, name, value)
    return dataclasses.replace(_settings)


def unknown_source(kind: object) -> ConfigurationError:
    """The error for a source kind that does not exist."""
    return ConfigurationError(f"unknown source {kind!r}; use one of {list(SOURCE_KINDS)} or a SecretSource")


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
        from kfp_nbsecrets.sources.store import LocalStore

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
        raise unknown_source(kind)
    _cached = (key, built)
    return built
