"""A bounded ``kfp.Client``: connection set-up as KFP users do it, read retries with backoff, run links."""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kfp_nbsecrets.submit.errors import BackendTimeout, SubmitError, _retryable, maybe_created, translate

DEFAULT_TIMEOUT = 30.0
READ_ATTEMPTS = 4
STOP_CHECK = 0.1  # seconds between looks at a stop event while a read is under way
RUN_DETAILS_PATH = "/#/runs/details/"
IN_CLUSTER_UI_PREFIX = "/pipeline"


@dataclass
class Backoff:
    """Delays between polls or read retries: ``initial`` doubling (``factor``) up to ``maximum``."""

    initial: float = 1.0
    maximum: float = 15.0
    factor: float = 2.0

    def delays(self):
        delay = self.initial
        while True:
            yield delay
            delay = min(self.maximum, delay * self.factor)


DEFAULT_BACKOFF = Backoff(0.5, 4.0)


def _read(call: Callable[[Any], Any], what: str, host: str | None, backoff: Backoff,
          stop: threading.Event | None = None, attempts: int = READ_ATTEMPTS, *,
          timeout: float = DEFAULT_TIMEOUT, deadline: float | None = None) -> Any:
    """An idempotent read ``call(request_timeout)``, retried on 5xx, timeouts and broken connections.

    Never retried: 4xx and refused connections (the host is wrong or down; waiting will not fix it).
    With ``deadline`` (a ``time.monotonic()`` value) every attempt, its request timeout and the
    delays between attempts fit in what is left; past it, :class:`BackendTimeout`.
    """
    delays = backoff.delays()
    for attempt in range(1, attempts + 1):
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise BackendTimeout(f"{what}: no answer from the KFP API{' at ' + host if host else ''}"
                                 f" before the deadline")
        try:
            if left is None and stop is None:
                return call(request_timeout(timeout))
            return _within(call, request_timeout(timeout if left is None else min(timeout, left)), left,
                           what, host, stop)
        except Exception as raw:  # noqa: BLE001 - translated below
            error = translate(raw, what, host)
            if not _retryable(error) or attempt == attempts:
                raise error from None
        delay = next(delays)
        if deadline is not None:
            delay = min(delay, deadline - time.monotonic())
            if delay <= 0:
                raise error from None
        if stop is not None:
            if stop.wait(delay):
                raise SubmitError(f"{what}: stopped")
        else:
            time.sleep(delay)
    raise AssertionError("unreachable")


def read(client: Any, call: Callable[[Any], Any], what: str, *, stop: threading.Event | None = None,
         deadline: float | None = None, backoff: Backoff | None = None) -> Any:
    """An idempotent read ``call(request_timeout)`` with the client's host, timeout and backoff
    (defaults for a plain ``kfp.Client``)."""
    return _read(call, what, getattr(client, "_nbsecrets_host", None),
                 backoff or getattr(client, "_nbsecrets_backoff", DEFAULT_BACKOFF), stop,
                 timeout=getattr(client, "_nbsecrets_timeout", DEFAULT_TIMEOUT), deadline=deadline)


def healthz(client: Any, api: str = "v2beta1", *, deadline: float | None = None) -> dict:
    """The health answer of ``/apis/{api}/healthz`` as the server wrote it, kept on the client.

    Read raw: the server writes undocumented fields (``tag_name``, ``commit_sha``) that the generated
    client would drop.
    """
    import json

    api_client = client._healthz_api.api_client
    response = read(client, lambda timeout: api_client.call_api(
        f"/apis/{api}/healthz", "GET", header_params={"Accept": "application/json"}, auth_settings=["Bearer"],
        _return_http_data_only=True, _preload_content=False, _request_timeout=timeout),
        "the KFP health check", deadline=deadline)
    try:
        answer = json.loads(response.data or b"{}")
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    client.__dict__.setdefault("_nbsecrets_healthz", {})[api] = answer
    return answer


def create(call: Callable[[Any], Any], client: Any, thing: str, where_to_look: str) -> Any:
    """The creation of ``thing`` by ``call(request_timeout)``, sent once: never retried, so never
    duplicated; when it fails after it was sent, the error says it may exist and where to look."""
    host = getattr(client, "_nbsecrets_host", None)
    try:
        return call(request_timeout(getattr(client, "_nbsecrets_timeout", DEFAULT_TIMEOUT)))
    except Exception as error:  # noqa: BLE001 - translated; a creation is never retried
        raise maybe_created(translate(error, f"creating {thing}", host), thing, where_to_look) from None


def request_timeout(seconds: float) -> tuple[float, float]:
    """The (connect, read) timeout of one request."""
    return (min(10.0, seconds), seconds)


def _within(call: Callable[[Any], Any], timeout: tuple[float, float], seconds: float | None, what: str,
            host: str | None, stop: threading.Event | None = None) -> Any:
    """``call(timeout)`` in a worker thread, abandoned after ``seconds`` or when ``stop`` is set: the
    read timeout bounds each socket read, not a server that trickles its answer, nor a user's Stop."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = call(timeout)
        except BaseException as error:  # noqa: BLE001 - handed over to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=work, name="kfp-nbsecrets-read", daemon=True)
    worker.start()
    end = None if seconds is None else time.monotonic() + seconds
    while worker.is_alive():
        if stop is not None and stop.is_set():
            raise SubmitError(f"{what}: stopped")
        left = None if end is None else end - time.monotonic()
        if left is not None and left <= 0:
            raise BackendTimeout(f"{what}: the KFP API{' at ' + host if host else ''} did not answer in time")
        worker.join(STOP_CHECK if stop is not None else left)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _client_class():
    import kfp

    class Client(kfp.Client):
        """``kfp.Client`` with bounded requests: no urllib3 retries (a POST is sent once), one-line errors
        and a health probe that retries with backoff instead of five fixed 5 s sleeps."""

        _nbsecrets_timeout: float = DEFAULT_TIMEOUT
        _nbsecrets_host: str | None = None
        _nbsecrets_backoff: Backoff = DEFAULT_BACKOFF

        def _load_config(self, *args: Any, **kwargs: Any):
            config = super()._load_config(*args, **kwargs)
            config.retries = False
            return config

        def get_kfp_healthz(self, sleep_duration: int = 5):
            import kfp_server_api

            answer = healthz(self, "v2beta1")
            return kfp_server_api.V2beta1GetHealthzResponse(multi_user=answer.get("multi_user"),
                                                            pipeline_store=answer.get("pipeline_store"))

        def request_timeout(self) -> tuple[float, float]:
            return request_timeout(self._nbsecrets_timeout)

    return Client


def connect(host: str | None = None, *, namespace: str | None = None, existing_token: str | None = None,
            cookies: str | None = None, ui_host: str | None = None, kube_context: str | None = None,
            verify_ssl: bool | None = None, timeout: float = DEFAULT_TIMEOUT,
            backoff: Backoff | None = None) -> Any:
    """A ``kfp.Client`` (subclass) configured the way KFP users set it up.

    ``host`` defaults to ``KF_PIPELINES_ENDPOINT``, then kfp's in-cluster / kubeconfig defaults. Auth:
    ``existing_token``, else the service-account token file ``KF_PIPELINES_SA_TOKEN_PATH`` when it exists
    (as in Kubeflow notebooks), else none; ``cookies`` is a Cookie header (e.g. an auth session cookie).
    """
    import kfp.client as kfp_client
    from kfp.client import client as client_module

    token_path = os.environ.get(kfp_client.KF_PIPELINES_SA_TOKEN_ENV) or kfp_client.KF_PIPELINES_SA_TOKEN_PATH
    credentials = None
    if not existing_token and token_path and os.path.isfile(token_path):
        from kfp.client.set_volume_credentials import ServiceAccountTokenVolumeCredentials

        credentials = ServiceAccountTokenVolumeCredentials(token_path)
    cls = _client_class()
    cls._nbsecrets_timeout = float(timeout)
    if backoff is not None:
        cls._nbsecrets_backoff = backoff
    target = host or os.environ.get(client_module.KF_PIPELINES_ENDPOINT_ENV)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            client = cls(host=host, namespace=namespace or "kubeflow", existing_token=existing_token or None,
                         cookies=cookies or None, ui_host=ui_host, kube_context=kube_context,
                         credentials=credentials, verify_ssl=verify_ssl)
    except Exception as error:  # noqa: BLE001
        raise translate(error, "connecting to the KFP API", target) from None
    client._nbsecrets_host = client._existing_config.host
    client._nbsecrets_ui_host = ui_host
    return client


def run_url(client: Any, run_id: str) -> str:
    """The run's page in the KFP UI: absolute for an external host, relative (behind the Kubeflow
    dashboard) in-cluster."""
    return ui_link(client, RUN_DETAILS_PATH + run_id)


def ui_link(client: Any, fragment: str) -> str:
    """A page of the KFP UI (``fragment`` like ``/#/runs/details/ID``), absolute or relative as
    :func:`run_url`."""
    ui = (os.environ.get("KF_PIPELINES_UI_ENDPOINT") or getattr(client, "_nbsecrets_ui_host", None)
          or getattr(client, "_uihost", None) or "")
    if ui and ".svc" not in ui:
        prefix = ui if ui.startswith(("http://", "https://")) else "http://" + ui
        return prefix.rstrip("/") + fragment
    return IN_CLUSTER_UI_PREFIX + fragment
