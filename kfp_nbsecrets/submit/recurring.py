"""Recurring runs: a pipeline on a cron schedule, through ``kfp.Client``'s recurring-run API.

The same preparation as a run (backend version, names resolved for old backends, version-skew guard,
pre-run check) happens once, at creation: every run the schedule starts uses the arguments and the
secret names checked then. A secret deleted or renamed later makes those future runs hang.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfp_nbsecrets.submit.client import DEFAULT_TIMEOUT, Backoff, create, read, ui_link
from kfp_nbsecrets.submit.errors import InvalidRequestError
from kfp_nbsecrets.submit.handle import about_html, about_lines
from kfp_nbsecrets.submit.prepare import default_name, prepare, prepare_options
from kfp_nbsecrets.tables import Table

RECURRING_RUN_PATH = "/#/recurringrun/details/"
MAX_CONCURRENCY = (1, 10)  # the backend's range (api_converter.go, toModelJob)
LATEST_RUNS = 5
RUNS_PAGE = 50
DELETED_SECRET_WARNING = ("the secrets were checked now, at creation: a secret deleted or renamed later"
                          " makes every future run of this schedule hang on it"
                          " (CreateContainerConfigError / FailedMount); keep the secrets while the schedule"
                          " is enabled")


def kfp_cron(expression: str) -> str:
    """The cron the backend expects for ``expression``.

    KFP parses cron with github.com/robfig/cron v1 ``cron.Parse``, seconds first (6 fields; a fifth
    field would be the month, not the weekday). A standard 5-field expression ("0 2 * * *", daily at
    02:00) gets a leading "0" seconds field; 6 fields and descriptors (@daily, @every 1h) are kept.
    """
    text = " ".join(expression.split())
    if text.startswith("@"):
        return text
    fields = text.split(" ") if text else []
    if len(fields) == 5:
        return "0 " + text
    if len(fields) == 6:
        return text
    raise InvalidRequestError(f"cron {expression!r} has {len(fields)} fields; write 5 (minute hour day month"
                              f" weekday, e.g. '0 2 * * *'), 6 with seconds first as KFP does"
                              f" ('0 0 2 * * *'), or a descriptor like '@daily'")


@dataclass(frozen=True)
class ScheduledRun:
    """One run started by a recurring run."""

    run_id: str
    name: str
    state: str
    created_at: str | None = None


class RecurringRunHandle:
    """A recurring run: id, name, cron, UI link, and its latest runs (``refresh()`` reads them)."""

    def __init__(self, client: Any, job: Any, *, cron_given: str, experiment_id: str | None,
                 backend: str | None = None, notes: list[str] | None = None) -> None:
        self.client = client
        self.recurring_run_id = job.recurring_run_id
        self.name = job.display_name
        self.cron = job.trigger.cron_schedule.cron
        self.cron_given = cron_given
        self.max_concurrency = int(job.max_concurrency or 1)
        self.status = str(job.status or "")
        self.experiment_id = experiment_id
        self.url = ui_link(client, RECURRING_RUN_PATH + self.recurring_run_id)
        self.backend = backend
        self.notes = list(notes or [])
        self.warning = DELETED_SECRET_WARNING
        self.runs: list[ScheduledRun] = []

    def refresh(self) -> RecurringRunHandle:
        """Read the recurring run's status and its latest runs (idempotent reads, retried)."""
        job = read(self.client, lambda timeout: self.client._recurring_run_api
                   .recurring_run_service_get_recurring_run(self.recurring_run_id, _request_timeout=timeout),
                   f"reading recurring run {self.recurring_run_id}")
        self.status = str(job.status or "")
        found = read(self.client, lambda timeout: self.client._run_api.run_service_list_runs(
            experiment_id=self.experiment_id, sort_by="created_at desc", page_size=RUNS_PAGE,
            _request_timeout=timeout), f"listing the runs of recurring run {self.recurring_run_id}")
        runs = [run for run in (found.runs or []) if run.recurring_run_id == self.recurring_run_id]
        self.runs = [ScheduledRun(run.run_id, run.display_name, str(run.state or "PENDING"),
                                  str(run.created_at) if run.created_at else None)
                     for run in runs[:LATEST_RUNS]]
        return self

    def _head(self) -> str:
        cron = repr(self.cron) + (f" (from {self.cron_given!r})" if self.cron_given != self.cron else "")
        return (f"Recurring run {self.name!r} ({self.recurring_run_id}): {self.status or 'created'},"
                f" cron {cron},"
                f" max concurrency {self.max_concurrency}")

    def __repr__(self) -> str:
        lines = [self._head(), f"  {self.url}", *about_lines(self.backend, self.notes)]
        lines.append(f"  warning: {self.warning}")
        if self.runs:
            lines.append("  latest runs:")
            lines += [f"    {run.name}: {run.state} ({run.run_id})" for run in self.runs]
        else:
            lines.append("  latest runs: none yet (refresh() reads them)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        runs = Table("Latest runs", ("run", "state", "id"), [(r.name, r.state, r.run_id) for r in self.runs],
                     empty="none yet")._repr_html_()
        return (f"<div class='kfp-nbsecrets-run'><b>{esc(self._head())}</b> "
                f"<a href='{esc(self.url, quote=True)}' target='_blank' rel='noopener'>open in KFP UI</a>"
                f"{about_html(self.backend, self.notes)}"
                f"<p class='kfp-nbsecrets-warning'>&#9888; {esc(self.warning)}</p>{runs}</div>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}


def schedule(pipeline: Any, arguments: Mapping[str, Any] | None = None, *, cron: str, name: str | None = None,
             max_concurrency: int = 1, no_catchup: bool = False, client: Any = None, host: str | None = None,
             namespace: str | None = None, experiment: str | None = None, experiment_id: str | None = None,
             check: bool = True, source: Any = None, backend_version: str | None = None,
             resolve_names: bool = True, legacy_secret_name: bool = False, drop_optional: bool = False,
             existing_token: str | None = None, cookies: str | None = None, ui_host: str | None = None,
             pipeline_root: str | None = None, enable_caching: bool | None = None,
             service_account: str | None = None, timeout: float = DEFAULT_TIMEOUT,
             backoff: Backoff | None = None) -> RecurringRunHandle:
    """Create an enabled recurring run of ``pipeline`` on ``cron``; returns its handle.

    ``cron``: standard 5 fields ("0 2 * * *": daily at 02:00; sent as KFP's "0 0 2 * * *"), KFP's 6
    fields with seconds first, or a descriptor ("@daily"). ``max_concurrency``: 1 to 10, as the
    backend accepts. The rest as :func:`~kfp_nbsecrets.submit.submit`; the version guard and the
    pre-run check run once, now. The creation is sent once, never retried.
    """
    import kfp_server_api

    sent_cron = kfp_cron(cron)
    low, high = MAX_CONCURRENCY
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) \
            or not low <= max_concurrency <= high:
        raise InvalidRequestError(f"max concurrency {max_concurrency!r} is out of the backend's range: use a"
                                  f" whole number from {low} to {high}")
    prepared = prepare(pipeline, arguments, **prepare_options(locals()))
    client = prepared.client
    name = name or default_name(prepared.compiled)
    body = kfp_server_api.V2beta1RecurringRun(
        display_name=name, description=prepared.description(), experiment_id=prepared.experiment_id,
        pipeline_spec=prepared.payload(enable_caching),
        runtime_config=kfp_server_api.V2beta1RuntimeConfig(parameters=prepared.arguments or None,
                                                           pipeline_root=pipeline_root),
        trigger=kfp_server_api.V2beta1Trigger(cron_schedule=kfp_server_api.V2beta1CronSchedule(cron=sent_cron)),
        max_concurrency=str(max_concurrency), no_catchup=no_catchup or None,
        mode=kfp_server_api.RecurringRunMode.ENABLE, service_account=service_account)
    job = create(lambda timeout: client._recurring_run_api.recurring_run_service_create_recurring_run(
        body, _request_timeout=timeout), client, f"recurring run {name!r}",
        f"the recurring runs of experiment {prepared.experiment_id} (KFP UI: Recurring Runs)")
    return RecurringRunHandle(client, job, cron_given=cron, experiment_id=prepared.experiment_id,
                              backend=prepared.version.describe(), notes=prepared.notes)
