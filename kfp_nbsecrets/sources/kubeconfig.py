"""The one place a Kubernetes client is configured: kubeconfig (file, context, exec plugin) or in-cluster.

Used by the Kubernetes secret source and by the run handle's pod-event check, so both talk to the
same cluster, context and namespace. Also the deadline every operation of the source runs under
(:class:`Deadline`): it bounds each request, and the exec credential plugin, by the time left, and shuts
down the socket of a request still running when it passes.
"""

from __future__ import annotations

import base64
import contextvars
import datetime
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfp_nbsecrets.sources.errors import SourceUnavailable

SERVICE_ACCOUNT_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
DEFAULT_KUBECONFIG = "~/.kube/config"
DEFAULT_TIMEOUT = 5.0

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("kfp_nbsecrets_deadline",
                                                                          default=None)


class Deadline:
    """The end of one operation, ``seconds`` from now. ``with deadline:`` makes it the current one.

    While it is current, every connection of a :func:`bounded_api_client` used in this thread is watched,
    and the sockets still in use are shut down when the deadline passes: a server that trickles its
    answer (or its headers) cannot make an operation outlive it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.passed = False
        self._connections: set[Any] = set()
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._token: contextvars.Token[Deadline | None] | None = None

    def left(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.ends - time.monotonic())

    def __enter__(self) -> Deadline:
        self._timer = threading.Timer(self.left(), self._expire)
        self._timer.daemon = True
        self._timer.start()
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        assert self._timer is not None and self._token is not None
        self._timer.cancel()
        _CURRENT.reset(self._token)
        with self._lock:
            self._connections.clear()

    def watch(self, connection: Any) -> None:
        """Shut ``connection`` down when the deadline passes (at once if it has passed)."""
        with self._lock:
            if not self.passed:
                self._connections.add(connection)
                return
        _shut_down(connection)

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            connections, self._connections = self._connections, set()
        for connection in connections:
            _shut_down(connection)


def current_deadline() -> Deadline | None:
    """The deadline of the operation running in this thread, if any."""
    return _CURRENT.get()


def _shut_down(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:  # the plain socket's shutdown, also for TLS sockets: a blocked read in another thread returns
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


def _watched_pool_classes() -> dict[str, type]:
    from urllib3 import connection, connectionpool

    class Watched:
        """Registers the connection with the current deadline before it connects or sends a request."""

        def connect(self) -> None:
            _watch(self)
            super().connect()  # type: ignore[misc]

        def request(self, *args: Any, **kwargs: Any) -> None:
            _watch(self)
            super().request(*args, **kwargs)  # type: ignore[misc]

    class HTTPConnection(Watched, connection.HTTPConnection):
        pass

    class HTTPSConnection(Watched, connection.HTTPSConnection):
        pass

    class HTTPPool(connectionpool.HTTPConnectionPool):
        ConnectionCls = HTTPConnection

    class HTTPSPool(connectionpool.HTTPSConnectionPool):
        ConnectionCls = HTTPSConnection

    return {"http": HTTPPool, "https": HTTPSPool}


def _watch(connection: Any) -> None:
    deadline = _CURRENT.get()
    if deadline is not None:
        deadline.watch(connection)


def bounded_api_client(configuration: Any) -> Any:
    """A kubernetes ``ApiClient`` whose connections obey the current :class:`Deadline`."""
    from kubernetes import client

    api_client = client.ApiClient(configuration)
    api_client.rest_client.pool_manager.pool_classes_by_scheme = _watched_pool_classes()
    return api_client


def kubeconfig_path() -> str | None:
    """The existing files of ``$KUBECONFIG`` (else ``~/.kube/config``), joined; None when there are none."""
    path = os.environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG
    existing = [p for p in path.split(os.pathsep) if p and os.path.exists(os.path.expanduser(p))]
    return os.pathsep.join(existing) or None


def load(*, config_file: str | os.PathLike[str] | None = None, context: str | None = None,
         in_cluster: bool | None = None, timeout: float = DEFAULT_TIMEOUT) -> tuple[Any, str | None, str]:
    """``(configuration, default namespace, origin)`` of a kubernetes client, with retries off.

    ``config_file`` (else ``$KUBECONFIG``, else ``~/.kube/config``) with its current context or
    ``context``; without a kubeconfig, inside a pod, the in-cluster service account. ``origin``
    says where the configuration came from, for messages. An ``exec`` credential plugin runs for at most
    ``timeout`` seconds (or the time left of the current deadline). Raises SourceUnavailable.
    """
    from kubernetes import client

    configuration = client.Configuration()
    if in_cluster is None:
        in_cluster = config_file is None and kubeconfig_path() is None and bool(
            os.environ.get("KUBERNETES_SERVICE_HOST"))
    if in_cluster:
        namespace, origin = _load_in_cluster(configuration), "in-cluster service account"
    else:
        namespace, origin = _load_kubeconfig(configuration, config_file, context, timeout)
    configuration.retries = False
    return configuration, namespace, origin


def _load_kubeconfig(configuration: Any, config_file: Any, context: str | None,
                     timeout: float) -> tuple[str | None, str]:
    from kubernetes.config import ConfigException, kube_config

    path = os.fspath(config_file) if config_file is not None else kubeconfig_path()
    if path is None:
        raise SourceUnavailable(
            "no kubeconfig found (looked at $KUBECONFIG and ~/.kube/config) and not inside a pod;"
            " point KUBECONFIG at one, or use the local store (source 'local')"
        )
    origin = f"kubeconfig {path}"
    try:
        merged = kube_config.KubeConfigMerger(path).config
        if merged is None:
            raise ConfigException("Invalid kube-config file. No configuration found.")
        loader = kube_config.KubeConfigLoader(config_dict=merged)
        contexts, current = loader.list_contexts(), loader.current_context
        chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
        if context and chosen is None:
            names = [c.get("name") for c in contexts]
            raise SourceUnavailable(f"context {context!r} not found in {origin}; use one of {names}")
        if context:
            loader.set_active_context(context)
        user_name = ((chosen or {}).get("context") or {}).get("user")
        user = merged["users"].get_with_name(user_name, safe=True) if user_name else None
        plugin = ExecPlugin.of_user(user["user"], origin, timeout) if user else None
        if plugin is not None:
            plugin.apply(user["user"].value, plugin.run())
        loader.load_and_set(configuration)
        if plugin is not None and plugin.expiry is not None:
            configuration.refresh_api_key_hook = plugin.refresh
    except ConfigException as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceUnavailable(f"cannot load {origin}: {first_line}") from None
    except OSError as exc:
        raise SourceUnavailable(f"cannot read {origin}: {exc.strerror or exc}") from None
    if chosen:
        origin += f", context {chosen.get('name')!r}"
    return ((chosen or {}).get("context") or {}).get("namespace"), origin


class ExecPlugin:
    """A kubeconfig ``exec`` credential plugin, run like the kubernetes client runs it, but bounded in time.

    The client's own runner (``kubernetes.config.exec_provider``) waits for the plugin without a timeout;
    this one gives it the time left of the current deadline (else ``timeout``), then kills its whole
    process group. It runs non-interactively (stdin closed): log in first if the plugin needs a prompt.
    """

    def __init__(self, spec: Mapping[str, Any], cwd: str | None, origin: str, timeout: float) -> None:
        self.spec, self.cwd, self.origin, self.timeout = spec, cwd, origin, timeout
        self.command = str(spec.get("command") or "")
        self.expiry: datetime.datetime | None = None

    @classmethod
    def of_user(cls, user: Any, origin: str, timeout: float) -> ExecPlugin | None:
        """The plugin the client would use for ``user`` (a kubeconfig node), if any: the client prefers an
        auth-provider and a token to it."""
        if "exec" not in user or "auth-provider" in user or "token" in user or "tokenFile" in user:
            return None
        directory = os.path.dirname(os.path.abspath(user.path)) if user.path else None
        return cls(user.value["exec"], directory, origin, timeout)

    def run(self) -> dict[str, Any]:
        """The plugin's ``status`` (token or client certificate); raises SourceUnavailable."""
        what = f"cannot load {self.origin}: exec credential plugin {self.command!r}"
        api_version = self.spec.get("apiVersion")
        if not self.command or not api_version:
            raise SourceUnavailable(f"cannot load {self.origin}: an exec plugin needs 'command' and"
                                    " 'apiVersion'")
        deadline = current_deadline()
        seconds, limit = (deadline.left(), deadline.seconds) if deadline is not None else (self.timeout,) * 2
        env = dict(os.environ)
        env.update({str(item.get("name")): str(item.get("value")) for item in self.spec.get("env") or ()})
        env["KUBERNETES_EXEC_INFO"] = json.dumps(
            {"apiVersion": api_version, "kind": "ExecCredential", "spec": {"interactive": False}})
        try:
            process = subprocess.Popen(
                [self.command, *map(str, self.spec.get("args") or ())], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.cwd, env=env, start_new_session=True)
        except OSError as exc:
            raise SourceUnavailable(f"{what} cannot run: {exc.strerror or exc}") from None
        try:
            stdout, stderr = process.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise SourceUnavailable(
                f"{what} gave no credentials within {limit:g} s; run it in a terminal to see why"
                " (a login prompt?), or raise the timeout (configure(timeout=...))") from None
        except BaseException:  # KeyboardInterrupt: leave no plugin behind
            _kill_group(process)
            raise
        if process.returncode:
            lines = stderr.decode(errors="replace").strip().splitlines()
            detail = f": {lines[-1][:200]}" if lines else ""
            raise SourceUnavailable(f"{what} failed (exit {process.returncode}){detail}")
        return self._status(stdout, what, api_version)

    @staticmethod
    def _status(stdout: bytes, what: str, api_version: str) -> dict[str, Any]:
        try:
            data = json.loads(stdout)
        except ValueError:
            data = None
        status = data.get("status") if isinstance(data, dict) else None
        if not isinstance(status, dict):
            raise SourceUnavailable(f"{what} did not print an ExecCredential (JSON with a 'status' object)")
        if data.get("apiVersion") != api_version:
            raise SourceUnavailable(f"{what} answered apiVersion {data.get('apiVersion')!r}, not"
                                    f" {api_version!r}")
        if not isinstance(status.get("token"), str) and not (
                isinstance(status.get("clientCertificateData"), str)
                and isinstance(status.get("clientKeyData"), str)):
            raise SourceUnavailable(f"{what} gave neither a token nor clientCertificateData + clientKeyData")
        return status

    def apply(self, user: dict[str, Any], status: Mapping[str, Any]) -> None:
        """Put the plugin's credentials into the kubeconfig ``user`` in its place."""
        del user["exec"]
        if isinstance(status.get("token"), str):
            user["token"] = status["token"]
        else:
            for field, key in (("client-certificate-data", "clientCertificateData"),
                               ("client-key-data", "clientKeyData")):
                user[field] = base64.b64encode(status[key].encode()).decode()
        self.expiry = _parse_expiry(status.get("expirationTimestamp"))

    def refresh(self, configuration: Any) -> None:
        """The client's refresh hook: run the plugin again when its token has expired."""
        if self.expiry is None or datetime.datetime.now(datetime.timezone.utc) < self.expiry:
            return
        status = self.run()
        if isinstance(status.get("token"), str):
            configuration.api_key["authorization"] = f"Bearer {status['token']}"
        self.expiry = _parse_expiry(status.get("expirationTimestamp"))


def _parse_expiry(stamp: Any) -> datetime.datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.communicate(timeout=2)
    except subprocess.TimeoutExpired:  # a descendant left the group and holds the pipes: stop reading
        process.wait()


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
