"""The one place a Kubernetes client configuration is loaded: kubeconfig (file, context) or in-cluster.

Used by the Kubernetes secret source and by the run handle's pod-event check, so both talk to the
same cluster, context and namespace.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kfp_nbsecrets.sources.errors import SourceUnavailable

SERVICE_ACCOUNT_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
DEFAULT_KUBECONFIG = "~/.kube/config"


def kubeconfig_path() -> str | None:
    """The existing files of ``$KUBECONFIG`` (else ``~/.kube/config``), joined; None when there are none."""
    path = os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG
    existing = [p for p in path.split(os.pathsep) if p and os.path.exists(os.path.expanduser(p))]
    return os.pathsep.join(existing) or None


def load(*, config_file: str | os.PathLike[str] | None = None, context: str | None = None,
         in_cluster: bool | None = None) -> tuple[Any, str | None, str]:
    """``(configuration, default namespace, origin)`` of a kubernetes client, with retries off.

    ``config_file`` (else ``$KUBECONFIG``, else ``~/.kube/config``) with its current context or
    ``context``; without a kubeconfig, inside a pod, the in-cluster service account. ``origin``
    says where the configuration came from, for messages. Raises SourceUnavailable.
    """
    from kubernetes import client

    configuration = client.Configuration()
    if in_cluster is None:
        in_cluster = config_file is None and kubeconfig_path() is None and bool(
            os.environ.get("KUBERNETES_SERVICE_HOST"))
    if in_cluster:
        namespace, origin = _load_in_cluster(configuration), "in-cluster service account"
    else:
        namespace, origin = _load_kubeconfig(configuration, config_file, context)
    configuration.retries = False
    return configuration, namespace, origin


def _load_kubeconfig(configuration: Any, config_file: Any, context: str | None) -> tuple[str | None, str]:
    from kubernetes import config

    path = os.fspath(config_file) if config_file is not None else kubeconfig_path()
    if path is None:
        raise SourceUnavailable(
            "no kubeconfig found (looked at $KUBECONFIG and ~/.kube/config) and not inside a pod;"
            " point KUBECONFIG at one, or use the local store (source 'local')"
        )
    origin = f"kubeconfig {path}"
    try:
        contexts, current = config.list_kube_config_contexts(config_file=path)
        chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
        if context and chosen is None:
            names = [c.get("name") for c in contexts]
            raise SourceUnavailable(f"context {context!r} not found in {origin}; use one of {names}")
        config.load_kube_config(
            config_file=path, context=context, client_configuration=configuration, persist_config=False
        )
    except config.ConfigException as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceUnavailable(f"cannot load {origin}: {first_line}") from None
    except OSError as exc:
        raise SourceUnavailable(f"cannot read {origin}: {exc.strerror or exc}") from None
    if chosen:
        origin += f", context {chosen.get('name')!r}"
    return ((chosen or {}).get("context") or {}).get("namespace"), origin


def _load_in_cluster(configuration: Any) -> str | None:
    from kubernetes import config

    try:
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException as exc:
        raise SourceUnavailable(f"cannot load the in-cluster service account configuration: {exc}") from None
    try:
        return SERVICE_ACCOUNT_NAMESPACE_FILE.read_text().strip() or None
    except OSError:
        return None
