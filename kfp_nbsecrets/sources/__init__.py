"""Where secret names and key names (and, only for local runs, values) come from.

Three sources share one interface, :class:`SecretSource` (``base``): a Kubernetes namespace
(``kube``, official client), a local store of Secret manifests on disk (``store``, the default,
needs no cluster) and an in-memory source (``memory``). Listing results (:class:`SecretInfo`)
never hold values; values are read only by :meth:`SecretSource.read_values_for_local_run`, never
cached, and hidden from reprs. ``config`` holds the settings :func:`get_source` builds a source with;
``errors`` the one-line errors every source raises.

Importing this package is cheap: the kubernetes client is imported only when a Kubernetes source is built.
"""

from kfp_nbsecrets.sources.base import (
    SYSTEM_SECRET_TYPES,
    SecretInfo,
    SecretSource,
    SecretValues,
    is_system_secret,
)
from kfp_nbsecrets.sources.config import (
    SOURCE_KINDS,
    SourceSettings,
    configure,
    current_settings,
    get_source,
    reset_configuration,
)
from kfp_nbsecrets.sources.errors import (
    AccessDenied,
    InsecureStoreError,
    InvalidValueError,
    MissingKeysError,
    NamespaceNotFound,
    SecretNotFound,
    SourceError,
    SourceUnavailable,
    StoreFormatError,
    ValuesNotSerializable,
)

__all__ = [
    "SOURCE_KINDS",
    "SYSTEM_SECRET_TYPES",
    "AccessDenied",
    "InsecureStoreError",
    "InvalidValueError",
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
    "ValuesNotSerializable",
    "configure",
    "current_settings",
    "get_source",
    "is_system_secret",
    "reset_configuration",
]
