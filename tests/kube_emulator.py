"""A kmock Kubernetes emulator on loopback, run in a background thread for the synchronous kubernetes client.

It serves secrets with its own reactions: a read that records the name, and a list that answers as the
API server does and kmock does not: pagination (``limit``/``continue``), ``fieldSelector`` on
``metadata.name`` and ``type``, and the content negotiation of ``Accept`` (apiserver
``endpoints/handlers/response.go``): a plain ``SecretList``, the server-side ``Table``
(``as=Table;v=v1|v1beta1;g=meta.k8s.io``, columns Name, Type, Data (key count), Age as in
``pkg/printers/internalversion/printers.go``, each row's object as ``PartialObjectMetadata`` unless
``includeObject`` says otherwise), ``PartialObjectMetadataList``, or 406 NotAcceptable. It records every
list request (parameters, headers) and the bytes it answered, and has hooks to inject 410 Gone, a repeated
continue token and failures. ``silent_server`` is a raw loopback server that hangs, closes, or trickles
its answer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import kmock
import yaml

SECRETS = kmock.resource("", "v1", "secrets")


def secret_manifest(
    name: str,
    namespace: str,
    data: Mapping[str, str],
    type: str = "Opaque",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Secret object as the API server returns it (data base64-encoded)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(labels or {}),
            "creationTimestamp": "2026-01-02T03:04:05Z",
        },
        "type": type,
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }


class KubeEmulator:
    """A running emulator: add secrets, inject reactions, and write a kubeconfig pointing at it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="kube-emulator", daemon=True)
        self._stack = contextlib.AsyncExitStack()
        self.handler: kmock.KubernetesEmulator | None = None
        self.url = ""
        self.list_requests: list[dict[str, str]] = []
        self.list_headers: list[dict[str, str]] = []
        self.list_bodies: list[bytes] = []
        self.get_names: list[str] = []
        self.expire_continue_times = 0
        self.repeat_continue_token = False
        self._secrets: dict[str, dict[str, dict[str, Any]]] = {}

    def start(self) -> KubeEmulator:
        self._thread.start()
        self.call(self._start())
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call(self._stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    def call(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, fn: Callable[[], Any]) -> Any:
        """Run a synchronous function (e.g. a kmock DSL statement) in the emulator's loop."""

        async def wrapper() -> Any:
            return fn()

        return self.call(wrapper())

    async def _start(self) -> None:
        handler = await self._stack.enter_async_context(kmock.KubernetesEmulator())
        server = await self._stack.enter_async_context(kmock.Server(handler))
        handler.resources[SECRETS] = kmock.ResourceInfo(namespaced=True, kind="Secret", verbs={"list", "get"})
        handler[kmock.action.LIST, SECRETS] << self._serve_list
        handler[kmock.action.FETCH, SECRETS] << self._serve_get
        self.handler = handler
        self.url = f"http://{server.host}:{server.port}"

    def add_secret(self, name: str, namespace: str = "default", data: Mapping[str, str] | None = None,
                   **kwargs: Any) -> None:
        self.add_secrets([secret_manifest(name, namespace, data or {}, **kwargs)])

    def add_secrets(self, manifests: list[dict[str, Any]]) -> None:
        """Add Secret objects (see :func:`secret_manifest`) in one go."""

        def store() -> None:
            for manifest in manifests:
                name, namespace = manifest["metadata"]["name"], manifest["metadata"]["namespace"]
                self._secrets.setdefault(namespace, {})[name] = manifest
                self.handler.objects[SECRETS, namespace, name] = manifest

        self.run(store)

    def secret(self, name: str, namespace: str = "default") -> dict[str, Any]:
        """The stored Secret object, values included (as a GET or a plain list would send it)."""
        return self._secrets[namespace][name]

    @property
    def list_accepts(self) -> list[str]:
        """The ``Accept`` header of every list request."""
        return [headers.get("Accept", "") for headers in self.list_headers]

    def fail(self, status: int, *criteria: Any, reason: str = "Failure", kind: str = "secrets") -> None:
        """Answer requests matching ``criteria`` (e.g. ``kmock.action.LIST, SECRETS``) with a Status error."""
        self.answer(status_body(status, reason, f"{reason} (injected by the test)", kind), *criteria,
                    status=status)

    def answer(self, payload: Any, *criteria: Any, status: int = 200) -> None:
        """Answer requests matching ``criteria`` with ``payload`` (bytes: sent as they are)."""

        def install() -> None:
            (self.handler ** 10)[criteria] << status << payload

        self.run(install)

    def _serve_get(self, request: kmock.Request) -> Any:
        self.get_names.append(request.name or "")
        secret = self._secrets.get(request.namespace or "", {}).get(request.name or "")
        if secret is None:
            raise kmock.KubernetesError(status=404, reason="NotFound",
                                        message=f'secrets "{request.name}" not found')
        return secret

    def _serve_list(self, request: kmock.Request) -> Any:
        params = dict(request.params)
        self.list_requests.append(params)
        self.list_headers.append(dict(request.headers))
        accept = request.headers.get("Accept", "")
        form = negotiate(accept)
        if form is None:
            raise kmock.KubernetesError(status=406, reason="NotAcceptable",
                                        message=f"only these media types are accepted: {', '.join(MEDIA)}")
        secrets = self._secrets.get(request.namespace or "", {})
        names = [name for name in sorted(secrets) if selected(secrets[name], params.get("fieldSelector", ""))]
        limit = int(params.get("limit") or 0) or len(names) or 1
        token = params.get("continue", "")
        if token and self.expire_continue_times:
            self.expire_continue_times -= 1
            raise kmock.KubernetesError(status=410, reason="Expired",
                                        message="The provided continue parameter is too old")
        start = int(token) if token else 0
        following = start + limit
        token = str(following) if following < len(names) else None
        if self.repeat_continue_token:
            token = "1"
        items = [secrets[name] for name in names[start:following]]
        answer = render_list(items, {"resourceVersion": "1", "continue": token}, form,
                             params.get("includeObject", ""))
        body = json.dumps(answer).encode()
        self.list_bodies.append(body)
        return kmock.Response(payload=body, headers={"Content-Type": "application/json"})

    def write_kubeconfig(self, directory: Path, namespace: str = "default", context: str = "emulator",
                         server: str | None = None) -> Path:
        """A kubeconfig with one context pointing at this emulator (or at ``server``)."""
        path = directory / "kubeconfig"
        path.write_text(yaml.safe_dump(kubeconfig(server or self.url, namespace, context)))
        path.chmod(0o600)
        return path


def kubeconfig(server: str, namespace: str, context: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "loopback", "cluster": {"server": server}}],
        "users": [{"name": "tester", "user": {"token": "test-token"}}],
        "contexts": [{"name": context, "context": {"cluster": "loopback", "user": "tester",
                                                   "namespace": namespace}}],
        "current-context": context,
    }


TRICKLE = {
    # the status line and then header lines, one byte every TRICKLE_PAUSE seconds, never ending
    "trickle-headers": (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 60 + b"\r\n"),
    # headers at once, then a JSON body that never ends, one byte at a time
    "trickle-body": (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
                     b'{"kind": "Table", "rows": [', b" " * 64),
}
TRICKLE_PAUSE = 0.05


@contextlib.contextmanager
def silent_server(behaviour: str) -> Iterator[tuple[str, list[socket.socket]]]:
    """A loopback TCP server that accepts and then hangs ("hang"), closes at once ("close"), or answers
    one byte at a time forever ("trickle-headers", "trickle-body"; see TRICKLE).

    Yields its URL and the list of accepted connections (to count attempts). Stops and closes everything
    on exit.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()
    accepted: list[socket.socket] = []
    workers: list[threading.Thread] = []

    def trickle(conn: socket.socket) -> None:
        head, repeated = TRICKLE[behaviour]
        conn.recv(65536)
        data = head
        with contextlib.suppress(OSError):
            while not stop.is_set():
                for byte in data:
                    if stop.wait(TRICKLE_PAUSE):
                        return
                    conn.sendall(bytes([byte]))
                data = repeated

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(conn)
            if behaviour == "close":
                conn.recv(65536)
                conn.close()
            elif behaviour in TRICKLE:
                worker = threading.Thread(target=trickle, args=(conn,), daemon=True)
                workers.append(worker)
                worker.start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        for worker in workers:
            worker.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_body(code: int, reason: str, message: str, kind: str = "secrets") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": code, "reason": reason,
            "message": message, "details": {"kind": kind}}


# -------------------------------------------------------------------------- the API server's list forms

MEDIA = ("application/json", "application/json;as=Table;v=v1;g=meta.k8s.io",
         "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
         "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
         "application/json;as=PartialObjectMetadataList;v=v1beta1;g=meta.k8s.io")
TABLE_COLUMNS = (("Name", "name", "Name must be unique within a namespace."),
                 ("Type", "", "Used to facilitate programmatic handling of secret data."),
                 ("Data", "", "Data contains the secret data."),
                 ("Age", "", "CreationTimestamp is a timestamp representing the server time when this object"
                             " was created."))


def negotiate(accept: str) -> tuple[str, str] | None:
    """``(kind, apiVersion)`` of the first acceptable media type: ("SecretList", "v1") for plain JSON."""
    for clause in (accept or "*/*").split(","):
        media, *options = (part.strip() for part in clause.split(";"))
        params = dict(option.split("=", 1) for option in options if "=" in option)
        if media not in ("application/json", "application/*", "*/*"):
            continue
        if "as" not in params:
            return "SecretList", "v1"
        if (params["as"] in ("Table", "PartialObjectMetadataList") and params.get("g") == "meta.k8s.io"
                and params.get("v") in ("v1", "v1beta1")):
            return params["as"], f"meta.k8s.io/{params['v']}"
    return None


def selected(secret: dict[str, Any], field_selector: str) -> bool:
    """Whether ``secret`` matches a field selector (secrets know metadata.name, metadata.namespace, type)."""
    meta = secret["metadata"]
    fields = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
              "type": secret.get("type", "Opaque")}
    for requirement in filter(None, field_selector.split(",")):
        negate = "!=" in requirement
        field, value = requirement.replace("!=", "=").replace("==", "=").split("=", 1)
        if field not in fields:
            raise kmock.KubernetesError(status=400, reason="BadRequest",
                                        message=f'"{field}" is not a known field selector: only'
                                                ' "metadata.name", "metadata.namespace", "type"')
        if (fields[field] == value) == negate:
            return False
    return True


def render_list(items: list[dict[str, Any]], list_meta: dict[str, Any], form: tuple[str, str],
                include_object: str) -> dict[str, Any]:
    kind, api_version = form
    if kind == "SecretList":
        return {"apiVersion": "v1", "kind": "SecretList", "metadata": list_meta, "items": items}
    if kind == "PartialObjectMetadataList":
        return {"apiVersion": api_version, "kind": kind, "metadata": list_meta,
                "items": [partial(item, api_version) for item in items]}
    if include_object not in ("", "Metadata", "Object", "None"):
        raise kmock.KubernetesError(status=400, reason="BadRequest",
                                    message=f'unrecognized includeObject value: "{include_object}"')
    objects = {"": partial, "Metadata": partial, "Object": lambda item, _: item, "None": lambda *_: None}
    return {
        "kind": "Table", "apiVersion": api_version, "metadata": list_meta,
        "columnDefinitions": [{"name": name, "type": "string", "format": fmt, "description": text,
                               "priority": 0} for name, fmt, text in TABLE_COLUMNS],
        "rows": [{"cells": [item["metadata"]["name"], item.get("type", "Opaque"), len(item.get("data") or {}),
                            age(item["metadata"].get("creationTimestamp"))],
                  "object": objects[include_object](item, api_version)} for item in items],
    }


def partial(item: dict[str, Any], api_version: str) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": api_version, "metadata": item["metadata"]}


def age(stamp: str | None) -> str:
    if not stamp:
        return "<unknown>"
    created = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    days = (datetime.datetime.now(datetime.timezone.utc) - created).days
    return f"{days}d"
