"""Secrets of a Kubernetes namespace, read with the official ``kubernetes`` client.

Lists move no values: they ask the API server for the server-side Table form of the list, as
``kubectl get secrets`` does (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``), whose rows hold
each secret's name, type, number of keys (the ``Data`` column) and metadata, never ``data``. Key names exist
only in the whole object (the API has no keys-only read), so they are read with one GET of the one secret
that needs them (:meth:`get`, :meth:`keys`, :meth:`check`), whose values are dropped at once; only
:meth:`KubernetesSource.read_values_for_local_run` decodes values. Responses are parsed from raw JSON: the
client never logs a body.

Every operation -- a list with all its pages and restarts, or a read -- runs under one deadline of
``timeout`` seconds (:class:`kubeconfig.Deadline`), whatever the server does.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kfp_nbsecrets.sources import (
    AccessDenied,
    NamespaceNotFound,
    SecretInfo,
    SecretNotFound,
    SecretSource,
    SourceError,
    SourceUnavailable,
    kubeconfig,
)

PAGE_SIZE = 500
MAX_LIST_RESTARTS = 3
MAX_PAGES = 2_000
#: The Table form of a list (v1, else v1beta1 for servers before 1.15), metadata-only either way. No plain
#: ``application/json`` fallback: a server that cannot make a Table answers 406 instead of sending values.
TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io")
TABLE_API_VERSIONS = ("meta.k8s.io/v1", "meta.k8s.io/v1beta1")


def _parse_time(stamp: Any) -> datetime.datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _info_from_object(obj: Mapping[str, Any]) -> SecretInfo:
    """Key names and metadata of a raw Secret object; its values are not copied."""
    meta = _mapping(obj.get("metadata"))
    keys = set(_mapping(obj.get("data"))) | set(_mapping(obj.get("stringData")))
    return SecretInfo(
        name=str(meta.get("name", "")),
        namespace=meta.get("namespace"),
        type=str(obj.get("type") or "Opaque"),
        keys=tuple(sorted(keys)),
        labels=dict(_mapping(meta.get("labels"))),
        created=_parse_time(meta.get("creationTimestamp")),
    )


class _ListExpired(SourceUnavailable):
    """The continue token of a paginated list expired (410 Gone): the list restarts from the top."""


class _Forbidden(AccessDenied):
    """RBAC refused the verb (403)."""


def _status_kind(body: Any) -> str:
    """``details.kind`` of a Kubernetes Status body (e.g. "namespaces" when the namespace is missing)."""
    try:
        status = json.loads(body)
    except (TypeError, ValueError):
        return ""
    return str(_mapping(_mapping(status).get("details")).get("kind", ""))


class _TableReader:
    """Rows of the Table pages of one list, as SecretInfo with key counts (no key names)."""

    def __init__(self, fail: Any) -> None:
        self._fail = fail
        self._columns: dict[str, int] = {}

    def read(self, page: Mapping[str, Any]) -> Iterator[SecretInfo]:
        if page.get("kind") != "Table" or page.get("apiVersion") not in TABLE_API_VERSIONS:
            raise self._fail(f"the answer is a {page.get('kind')!r}, not a Table; is it a Kubernetes API"
                             " server?")
        definitions = page.get("columnDefinitions")
        if isinstance(definitions, list) and definitions:  # sent with every page; kept if one lacks them
            self._columns = {str(_mapping(column).get("name", "")).lower(): index
                             for index, column in enumerate(definitions)}
        if "type" not in self._columns or "data" not in self._columns:
            raise self._fail("the Table has no Type and Data columns; is it a Kubernetes API server?")
        rows = page.get("rows")
        rows = [] if rows is None else rows  # an empty list may come as null
        if not isinstance(rows, list):
            raise self._fail("the Table's rows are not a list")
        for row in rows:
            cells = _mapping(row).get("cells")
            if not isinstance(cells, list) or len(cells) < len(self._columns):
                raise self._fail("a Table row has fewer cells than columns")
            meta = _mapping(_mapping(_mapping(row).get("object")).get("metadata"))
            count = cells[self._columns["data"]]
            yield SecretInfo(
                name=str(meta.get("name") or cells[self._columns.get("name", 0)]),
                namespace=meta.get("namespace"),
                type=str(cells[self._columns["type"]] or "Opaque"),
                keys=None,
                labels=dict(_mapping(meta.get("labels"))),  # annotations are not copied
                created=_parse_time(meta.get("creationTimestamp")),
                key_count=count if isinstance(count, int) and count >= 0 else None,
            )


class KubernetesSource(SecretSource):
    """Secrets of one namespace of a cluster.

    Configuration comes from ``config_file`` (else ``$KUBECONFIG``, else ``~/.kube/config``) with its current
    context or ``context``; without a kubeconfig, inside a pod, from the in-cluster service account.
    The namespace is ``namespace``, else the context's (or the service account's), else "default".
    Each operation (a whole list, or a read) takes at most ``timeout`` seconds, and is never retried.
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
        self.timeout = float(timeout)
        self.page_size = int(page_size)
        with kubeconfig.Deadline(self.timeout):
            configuration, default_namespace, self._origin = kubeconfig.load(
                config_file=config_file, context=context, in_cluster=in_cluster, timeout=self.timeout)
        self.namespace = namespace or default_namespace or "default"
        self.host = configuration.host
        self._api_client = kubeconfig.bounded_api_client(configuration)

    def describe(self) -> str:
        return f"Kubernetes API {self.host} ({self._origin})"

    def _where(self, namespace: str | None) -> str:
        return f"namespace {namespace!r} at {self.host}"

    @contextmanager
    def _operation(self) -> Iterator[kubeconfig.Deadline]:
        """The deadline of the running operation, or a new one of ``timeout`` seconds."""
        deadline = kubeconfig.current_deadline()
        if deadline is not None:
            yield deadline
            return
        with kubeconfig.Deadline(self.timeout) as deadline:
            yield deadline

    # -- requests ----------------------------------------------------------------------------------

    def _request(self, verb: str, target: str, namespace: str, path: str, path_params: Mapping[str, str],
                 query: Mapping[str, Any], accept: str) -> dict[str, Any]:
        """One GET under the current deadline; its JSON object, or a one-line SourceError."""
        import urllib3
        from kubernetes.client.exceptions import ApiException

        deadline = kubeconfig.current_deadline()
        assert deadline is not None, "requests run inside _operation()"
        left = deadline.left()
        if left <= 0:
            raise self._timed_out(target)
        error: SourceError | None = None
        body = b""
        try:
            response = self._api_client.call_api(
                path, "GET", path_params=dict(path_params), query_params=list(query.items()),
                header_params={"Accept": accept},
                auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True,
                _request_timeout=(left, left))
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
            self._api_client.last_response = None  # the client would keep the raw response (values)
        if deadline.passed:  # the watchdog shut the socket down: whatever came is cut short
            del body
            raise self._timed_out(target)
        if error is None:
            try:
                parsed = json.loads(body)
            except ValueError:  # the decode error would quote the body: dropped
                parsed = error = SourceUnavailable(
                    f"cannot {target}: the answer is not JSON; is it a Kubernetes API?")
            del body
            if isinstance(parsed, dict):
                return parsed
            error = error or SourceUnavailable(
                f"cannot {target}: the answer is JSON but not an object; is it a Kubernetes API?")
        # Raised outside the except clauses, so the original exception is not kept as its context.
        raise error

    def _timed_out(self, target: str) -> SourceUnavailable:
        return SourceUnavailable(
            f"cannot {target}: no complete answer within {self.timeout:g} s; check the network or raise"
            " the timeout (configure(timeout=...))"
        )

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
            return _Forbidden(
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
        if status == 406:
            return SourceUnavailable(
                f"cannot {target}: the API server cannot answer a list in the Table form (406 Not"
                " Acceptable), and a plain list would carry every value; Kubernetes 1.15 or later is needed"
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
            return self._timed_out(target)
        if isinstance(exc, urllib3.exceptions.ProtocolError | ConnectionError):
            return SourceUnavailable(
                f"cannot {target}: the server closed the connection without answering; is {self.host}"
                " a Kubernetes API server?"
            )
        return SourceUnavailable(
            f"cannot {target}: the connection failed ({type(exc).__name__}); is the cluster reachable?"
        )

    # -- lists -------------------------------------------------------------------------------------

    def _iter_secrets(self, namespace: str | None) -> Iterable[SecretInfo]:
        with self._operation():
            return self._list(namespace or "default")

    def _list(self, namespace: str, field_selector: str | None = None) -> list[SecretInfo]:
        for _ in range(MAX_LIST_RESTARTS + 1):
            infos = self._list_all_pages(namespace, field_selector)
            if infos is not None:
                return infos
        raise SourceUnavailable(
            f"cannot list secrets in namespace {namespace!r} at {self.host}: the list expired (410 Gone)"
            f" {MAX_LIST_RESTARTS + 1} times in a row; try again or raise the page size"
        )

    def _list_all_pages(self, namespace: str, field_selector: str | None) -> list[SecretInfo] | None:
        """All pages of one consistent list, or None when the continue token expired (410 Gone)."""
        target = f"list secrets in namespace {namespace!r} at {self.host}"

        def fail(problem: str) -> SourceUnavailable:
            return SourceUnavailable(f"cannot {target}: {problem}")

        table = _TableReader(fail)
        infos: list[SecretInfo] = []
        query: dict[str, Any] = {"limit": self.page_size, "includeObject": "Metadata"}
        if field_selector:
            query["fieldSelector"] = field_selector
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            try:
                page = self._request("list", target, namespace, "/api/v1/namespaces/{namespace}/secrets",
                                     {"namespace": namespace}, query, TABLE_ACCEPT)
            except _ListExpired:
                if "continue" in query:
                    return None
                raise
            infos.extend(table.read(page))
            token = _mapping(page.get("metadata")).get("continue")
            del page
            if not token:
                return infos
            if not isinstance(token, str) or token in seen:
                raise fail("the API server sent the same continue token twice; is it a Kubernetes API"
                           " server?")
            seen.add(token)
            query["continue"] = token
        raise fail(f"more than {MAX_PAGES} pages of {self.page_size}; raise the page size")

    # -- one secret --------------------------------------------------------------------------------

    def _find(self, name: str, namespace: str | None) -> SecretInfo | None:
        namespace = namespace or "default"
        with self._operation():
            try:
                obj = self._read(name, namespace)
            except _Forbidden as denied:  # RBAC may allow list but not get: the list still tells it exists
                refused = str(denied)
            else:
                return None if obj is None else _info_from_object(obj)
            try:
                listed = self._list(namespace, field_selector=f"metadata.name={name}")
            except _Forbidden:
                listed = None
        if listed is None:  # neither get nor list allowed: the refusal of the get is the answer
            raise _Forbidden(refused)
        found = next((info for info in listed if info.name == name), None)
        if found is None:
            return None
        unavailable = f"key names of secret {name!r} unavailable: {refused}"
        return dataclasses.replace(found, keys_unavailable=unavailable)

    def _read(self, name: str, namespace: str) -> dict[str, Any] | None:
        target = f"get secret {name!r} in namespace {namespace!r} at {self.host}"
        try:
            return self._request("get", target, namespace, "/api/v1/namespaces/{namespace}/secrets/{name}",
                                 {"namespace": namespace, "name": name}, {}, "application/json")
        except SecretNotFound:
            return None

    def _read_values(self, name: str, namespace: str | None) -> Mapping[str, bytes]:
        namespace = namespace or "default"
        with self._operation():
            obj = self._read(name, namespace)
            if obj is None:
                self.get(name, namespace)  # raises SecretNotFound
        try:
            values = {key: base64.b64decode(value) for key, value in _mapping(obj.get("data")).items()}
            values.update({key: value.encode() for key, value in _mapping(obj.get("stringData")).items()})
        except (ValueError, TypeError, AttributeError):  # the messages never quote the value
            values = None
        if values is None:
            raise SourceUnavailable(f"secret {name!r} in {self._where(namespace)}: a value is not base64"
                                    " text; is it a Kubernetes API server?")
        return values
