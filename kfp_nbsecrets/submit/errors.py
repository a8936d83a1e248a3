"""Errors of submission, and the translation of the KFP client's exceptions into them (one line each)."""

from __future__ import annotations

from typing import Any

from kfp_nbsecrets.errors import KfpNbSecretsError


class SubmitError(KfpNbSecretsError):
    """Base of submission errors; messages are one line."""


class AuthError(SubmitError):
    """401/403: missing, expired or insufficient credentials."""


class NotFoundError(SubmitError):
    """404: the experiment or run does not exist."""


class ServerError(SubmitError):
    """5xx from the KFP API."""


class RejectedError(SubmitError):
    """4xx other than auth/not-found: the backend rejected the request (e.g. an unknown field)."""


class BackendTimeout(SubmitError):
    """The KFP API did not answer in time."""


class Unreachable(SubmitError):
    """The KFP API host cannot be reached (connection refused, DNS, TLS)."""


class ConnectionLost(Unreachable):
    """The connection broke after the request was sent (reset, closed without an answer)."""


class InvalidRequestError(SubmitError, ValueError):
    """A schedule or upload request that cannot be sent as given (cron, concurrency, names)."""


class VersionSkewError(SubmitError):
    """The pipeline uses secret features the configured backend version rejects."""


def _retryable(error: SubmitError) -> bool:
    """Worth another read: 5xx, timeouts, broken connections -- not refused ones (wrong or down host)."""
    return isinstance(error, ServerError | BackendTimeout | ConnectionLost)


def maybe_created(error: SubmitError, thing: str, where_to_look: str) -> SubmitError:
    """For a creation (never retried) that failed after it was sent: say it may exist and where to look."""
    if isinstance(error, BackendTimeout | ServerError | ConnectionLost):
        return type(error)(f"{error}; {thing} may exist all the same: look for it in {where_to_look} before"
                           f" trying again (not retried, to avoid a duplicate)")
    return error


def translate(error: BaseException, what: str, host: str | None = None) -> BaseException:
    """A one-line typed error for an exception of the KFP client (HTTP status, connection, timeout);
    any other exception is a bug and is returned as it is, to be raised with its traceback."""
    import kfp_server_api
    import urllib3

    where = f" at {host}" if host else ""
    if isinstance(error, SubmitError):
        return error
    if isinstance(error, kfp_server_api.ApiException):
        status = int(error.status or 0)
        detail = _api_message(error)
        if status in (401, 403):
            hint = ("set %config KfpSecretMagics.existing_token / cookies, or check the service-account"
                    " token (KF_PIPELINES_SA_TOKEN_PATH)")
            label = "Unauthorized" if status == 401 else "Forbidden"
            return AuthError(f"{what} was refused{where} ({status} {label}{': ' + detail if detail else ''});"
                             f" {hint}")
        if status == 404:
            return NotFoundError(f"{what}: not found{where}{': ' + detail if detail else ''}")
        if status >= 500:
            return ServerError(f"{what} failed{where}: server error {status}"
                               f"{': ' + detail if detail else ''}")
        if status == 0:
            return Unreachable(f"{what}: no answer from the KFP API{where}: {_short(error)}")
        return RejectedError(f"{what} was rejected{where} ({status}){': ' + detail if detail else ''}")
    lost = (urllib3.exceptions.ProtocolError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)
    if isinstance(error, lost) or isinstance(getattr(error, "reason", None), lost):
        return ConnectionLost(f"{what}: the connection to the KFP API{where} broke before an answer"
                              f" ({_short(error)})")
    refused = (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError, ConnectionError)
    timeouts = (urllib3.exceptions.TimeoutError, TimeoutError)
    if isinstance(error, refused) or isinstance(getattr(error, "reason", None), refused):
        return Unreachable(f"{what}: cannot reach the KFP API{where}: {_short(error)}; check the host"
                           f" (%config KfpSecretMagics.kfp_host or KF_PIPELINES_ENDPOINT)")
    if isinstance(error, timeouts) or isinstance(getattr(error, "reason", None), timeouts):
        return BackendTimeout(f"{what}: the KFP API{where} did not answer in time")
    if isinstance(error, urllib3.exceptions.HTTPError | OSError):
        return Unreachable(f"{what}: cannot reach the KFP API{where}: {_short(error)}; check the host"
                           f" (%config KfpSecretMagics.kfp_host or KF_PIPELINES_ENDPOINT)")
    return error


def _api_message(error: Any) -> str:
    import json

    body = getattr(error, "body", None)
    try:
        data = json.loads(body) if body else {}
    except (TypeError, ValueError):
        data = {}
    message = data.get("message") or data.get("error") if isinstance(data, dict) else None
    text = str(message or "").strip() or str(getattr(error, "reason", "") or "")
    return _short(text)


def _short(value: Any, limit: int = 300) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
