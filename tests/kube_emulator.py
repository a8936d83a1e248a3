"""A kmock Kubernetes emulator on loopback, run in a background thread for the synchronous kubernetes client.

Besides the emulator's own list/read/404, it adds a paginating list reaction for secrets
(``limit``/``continue``, which the emulator ignores) and hooks to inject 410 Gone and failures.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
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
        self.expire_continue_times = 0
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
        handler[kmock.action.LIST, SECRETS] << self._serve_paginated_list
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

    def fail(self, status: int, *criteria: Any, reason: str = "Failure", kind: str = "secrets") -> None:
        """Answer requests matching ``criteria`` (e.g. ``kmock.action.LIST, SECRETS``) with a Status error."""
        body = status_body(status, reason, f"{reason} (injected by the test)", kind)

        def install() -> None:
            (self.handler ** 10)[criteria] << status << body

        self.run(install)

    def _serve_paginated_list(self, request: kmock.Request) -> Any:
        params = dict(request.params)
        self.list_requests.append(params)
        names = sorted(self._secrets.get(request.namespace or "", {}))
        limit = int(params.get("limit") or 0) or len(names) or 1
        token = params.get("continue", "")
        if token and self.expire_continue_times:
            self.expire_continue_times -= 1
            raise kmock.KubernetesError(status=410, reason="Expired",
                                        message="The provided continue parameter is too old")
        start = int(token) if token else 0
        page = names[start:start + limit]
        following = start + limit
        token = str(following) if following < len(names) else None
        items = [self._secrets[request.namespace][name] for name in page]
        return {
            "apiVersion": "v1",
            "kind": "SecretList",
            "metadata": {"resourceVersion": "1", "continue": token},
            "items": items,
        }

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


@contextlib.contextmanager
def silent_server(behaviour: str) -> Iterator[tuple[str, list[socket.socket]]]:
    """A loopback TCP server that accepts and then hangs ("hang") or closes at once ("close").

    Yields its URL and the list of accepted connections (to count attempts).
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()
    accepted: list[socket.socket] = []

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

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(timeout=5)
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
