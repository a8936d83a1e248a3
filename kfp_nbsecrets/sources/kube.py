"""Secrets of a Kubernetes namespace, read with the official ``kubernetes`` client.

Responses are parsed from raw JSON (``_preload_content=False``): faster than the client's models, and the
client never logs a body. Values are dropped as soon as key names are taken; only
:meth:`KubernetesSource.read_values_for_local_run` decodes them.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from kfp_nbsecrets.sources import (
    AccessDenied,
    NamespaceNotFound,
    SecretInfo,
    SecretNotFound,
    SecretSource,
    SourceError,
    SourceUnavailable,
)

PAGE_SIZE = 500
MAX_LIST_RESTARTS = 3


def _parse_time(stamp: str | None) -> datetime.datetime | None:
    if not stamp:
        return None
    try:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def _info_from_object(obj: Mapping[str, Any]) -> SecretInfo:
    """Key names and metadata of a raw Secret object; its values are not copied."""
    meta = obj.get("metadata") or {}
    keys = set(obj.get("data") or ()) | set(obj.get("stringData") or ())
    return SecretInfo(
        name=meta.get("name", ""),
        namespace=meta.get("namespace"),
        type=obj.get("type") or "Opaque",
        keys=tuple(sorted(keys)),
        labels=dict(meta.get("labels") or {}),
        created=_parse_time(meta.get("creationTimestamp")),
    )


class _ListExpired(SourceUnavailable):
    """The continue token of a paginated list expired (410 Gone): the list restarts from the top."""


def _parse_json(body: bytes) -> Any:
    """The JSON document, or None when ``body`` is not JSON (the decode error quotes it: dropped)."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def _status_kind(body: Any) -> str:
    """``details.kind`` of a Kubernetes Status body (e.g. "namespaces" when the namespace is missing)."""
    try:
        return str(json.loads(body).get("details", {}).get("kind", ""))
    except (TypeError, ValueError, AttributeError):
        return ""


class KubernetesSource(SecretSource):
    """Secrets of one namespace of a cluster.

    Configuration comes from ``config_file`` (else ``$KUBECONFIG``, else ``~/.kube/config``) with its current
    context or ``context``; without a kubeconfig, inside a pod, from the in-cluster service account.
    The namespace is ``namespace``, else the context's (or the service account's), else "default".
    Each request is bounded by ``timeout`` seconds (connect and read) and never retried.
    """

    kind = "k8s"

    def __init__(
        self,
        namespace: str | None = None,
        *,
        context: str | None = None,
        config_file: str | os.PathLike[str] | None = None,
        in_cluster: bool | None = None,
        timeout: float = 5.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        from kubernetes import client

        from kfp_nbsecrets.sources import kubeconfig

        self.timeout = float(timeout)
        self.page_size = int(page_size)
        configuration, default_namespace, self._origin = kubeconfig.load(
            config_file=config_file, context=context, in_cluster=in_cluster)
        self.namespace = namespace or default_namespace or "default"
        self.host = configuration.host
        self._api = client.CoreV1Api(client.ApiClient(configuration))

    def describe(self) -> str:
        return f"Kubernetes API {self.host} ({self._origin})"

    def _where(self, namespace: str | None) -> str:
        return f"namespace {namespace!r} at {self.host}"

    def _request(self, verb: str, namespace: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one API call and return its parsed JSON body; errors become one-line SourceErrors."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        target = f"{verb} secrets in namespace {namespace!r} at {self.host}"
        if verb == "get":
            target = f"get secret {args[0]!r} in namespace {namespace!r} at {self.host}"
        error: SourceError | None = None
        body = b""
        try:
            response = call(
                *args, _preload_content=False, _request_timeout=(self.timeout, self.timeout), **kwargs
            )
            try:
                body = response.read()  # not cached on the response object
            finally:
                response.release_conn()
        except ApiException as exc:
            error = self._api_error(exc, verb, namespace, target)
        except urllib3.exceptions.MaxRetryError as exc:
            error = self._network_error(exc.reason, target)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            error = self._network_error(exc, target)
        finally:
            self._api.api_client.last_response = None  # the client would keep the raw response (values)
        if error is None:
            parsed = _parse_json(body)
            del body
            if parsed is not None:
                return parsed
            error = SourceUnavailable(f"cannot {target}: the answer is not JSON; is it a Kubernetes API?")
        # Raised outside the except clauses, so the original exception is not kept as its context.
        raise error

    def _api_error(self, exc: Any, verb: str, namespace: str, target: str) -> SourceError:
        status = exc.status or 0
        if status == 0:  # the client reports TLS failures as status 0
            reason = str(exc.reason or "").replace("\n", ": ")
            return SourceUnavailable(
                f"cannot {target}: TLS failed ({reason}); check certificate-authority / server in"
                f" {self._origin}"
            )
        if status == 401:
            return AccessDenied(
                f"cannot {target}: not authenticated (401); refresh the credentials of {self._origin}"
            )
        if status == 403:
            return AccessDenied(
                f"forbidden (403) to {target}: RBAC does not allow verb {verb!r} on resource 'secrets' in"
                f" namespace {namespace!r}; ask for a Role granting it, or pick another namespace"
            )
        if status == 404 and verb == "get" and _status_kind(exc.body) != "namespaces":
            return SecretNotFound(f"secret not found: cannot {target} (404); check the name or create it")
        if status == 404:
            return NamespaceNotFound(
                f"namespace {namespace!r} not found at {self.host}; check the namespace"
                " (kubectl get namespaces)"
            )
        if status == 410:
            return _ListExpired(f"cannot {target}: the list expired (410 Gone); try again")
        return SourceUnavailable(f"cannot {target}: the API server answered {status} {exc.reason or ''}")

    def _network_error(self, exc: BaseException | None, target: str) -> SourceUnavailable:
        import urllib3

        if isinstance(exc, urllib3.exceptions.SSLError):
            return SourceUnavailable(
                f"cannot {target}: TLS failed ({exc}); check certificate-authority / server in {self._origin}"
            )
        if isinstance(exc, urllib3.exceptions.NewConnectionError):
            return SourceUnavailable(
                f"cannot {target}: connection refused or host unreachable; is the cluster running,"
                f" and does {self._origin} point at it?"
            )
        if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
            return SourceUnavailable(
                f"cannot {target}: no answer within {self.timeout:g} s; check the network or raise"
                " the timeout (configure(timeout=...))"
            )
        if isinstance(exc, urllib3.exceptions.ProtocolError | ConnectionError):
            return SourceUnavailable(
                f"cannot {target}: the server closed the connection without answering; is {self.host}"
                " a Kubernetes API server?"
            )
        return SourceUnavailable(
            f"cannot {target}: the connection failed ({type(exc).__name__}); is the cluster reachable?"
        )

    def _iter_secrets(self, namespace: str | None) -> Iterable[SecretInfo]:
        namespace = namespace or "default"
        for _ in range(MAX_LIST_RESTARTS + 1):
            infos = self._list_all_pages(namespace)
            if infos is not None:
                return infos
        raise SourceUnavailable(
            f"cannot list secrets in namespace {namespace!r} at {self.host}: the list expired (410 Gone)"
            f" {MAX_LIST_RESTARTS + 1} times in a row; try again or raise the page size"
        )

    def _list_all_pages(self, namespace: str) -> list[SecretInfo] | None:
        """All pages of one consistent list, or None when the continue token expired (410 Gone)."""
        infos: list[SecretInfo] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": self.page_size}
            if token:
                kwargs["_continue"] = token
            try:
                page = self._request("list", namespace, self._api.list_namespaced_secret, namespace, **kwargs)
            except _ListExpired:
                if token:
                    return None
                raise
            infos.extend(_info_from_object(item) for item in page.get("items") or ())
            token = (page.get("metadata") or {}).get("continue")
            del page
            if not token:
                return infos

    def _find(self, name: str, namespace: str | None) -> SecretInfo | None:
        obj = self._read(name, namespace or "default")
        return None if obj is None else _info_from_object(obj)

    def _read(self, name: str, namespace: str) -> dict[str, Any] | None:
        try:
            return self._request("get", namespace, self._api.read_namespaced_secret, name, namespace)
        except SecretNotFound:
            return None

    def _read_values(self, name: str, namespace: str | None) -> Mapping[str, bytes]:
        namespace = namespace or "default"
        obj = self._read(name, namespace)
        if obj is None:
            self.get(name, namespace)  # raises SecretNotFound
        values = {key: base64.b64decode(value) for key, value in (obj.get("data") or {}).items()}
        values.update({key: value.encode() for key, value in (obj.get("stringData") or {}).items()})
        return values
