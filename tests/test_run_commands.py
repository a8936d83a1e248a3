"""``%kfp_secret check`` and ``run`` in an in-process IPython shell, against the loopback KFP server."""

import pytest
from IPython.core.error import UsageError
from kfp import dsl, kubernetes
from kfp_server import KfpServer, isolate_client_environment
from magic_shell import kfp_secret
from pipelines import consume, nested

from kfp_nbsecrets import sources
from kfp_nbsecrets.check import CheckResult
from kfp_nbsecrets.submit import RunHandle
from kfp_nbsecrets.submit.errors import BackendTimeout
from kfp_nbsecrets.widgets.run_status import RunStatus

SECRETS = {"literal-creds": {"password": "p"}, "a-one": {"x": "1"}, "b-two": {"x": "2"},
           "db-creds": {"user": "u", "token": "t"}, "regcred": {".dockerconfigjson": "{}"}}
TYPES = {"regcred": "kubernetes.io/dockerconfigjson"}  # the image pull secret of nested()
TRAITS = ("kfp_host", "backend_version", "kfp_namespace", "existing_token", "cookies", "ui_host",
          "experiment", "check_source", "kfp_timeout", "poll_interval")


@pytest.fixture
def shell(ip, monkeypatch, tmp_path):
    isolate_client_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    memory = sources.get_source("memory")
    for name, values in SECRETS.items():
        memory.add(name, values, type=TYPES.get(name, "Opaque"))
    server = KfpServer().start()
    magics = ip.magics_manager.registry["KfpSecretMagics"]
    ip.run_line_magic("config", f"KfpSecretMagics.kfp_host = {server.url!r}")
    ip.run_line_magic("config", "KfpSecretMagics.check_source = 'memory'")
    ip.run_line_magic("config", "KfpSecretMagics.poll_interval = 0.01")
    ip.user_ns["nested"] = nested()
    ip.server = server
    try:
        yield ip
    finally:
        server.stop()
        for trait in TRAITS:
            setattr(magics, trait, magics.trait_defaults(trait))


def test_config_traits_are_set_per_notebook(shell):
    shell.run_line_magic("config", "KfpSecretMagics.backend_version = '2.14.0'")
    magics = shell.magics_manager.registry["KfpSecretMagics"]
    assert magics.backend_version == "2.14.0" and magics.check_source == "memory"
    assert "run PIPELINE" in magics.kfp_secret.__doc__


def test_check_returns_a_display_object(shell):
    result = kfp_secret(shell, "check nested --arg secret_name=db-creds")
    assert isinstance(result, CheckResult) and result.ok
    result = kfp_secret(shell, "check nested --arg secret_name=missing --arg 'names=[\"a-one\"]'")
    assert not result.ok and any("secret 'missing'" in p for p in result.problems())
    assert set(result._repr_mimebundle_()) == {"text/plain", "text/html"}


def test_check_and_run_argument_errors_are_one_line(shell):
    with pytest.raises(UsageError, match="has no parameter 'secret_nam'.*did you mean 'secret_name'"):
        kfp_secret(shell, "check nested --arg secret_nam=x")
    with pytest.raises(UsageError, match="is not NAME=VALUE"):
        kfp_secret(shell, "run nested --arg novalue")
    with pytest.raises(UsageError, match="no pipeline variable or compiled YAML file 'nestd'"):
        kfp_secret(shell, "run nestd")


def test_run_wait_returns_the_finished_handle(shell, capsys):
    handle = kfp_secret(shell, "run nested --wait --timeout 10 --experiment exp --run-name r1")
    assert isinstance(handle, RunHandle)
    assert handle.state == "SUCCEEDED" and handle.task_states == {"consume": "SUCCEEDED"}
    assert handle.name == "r1"
    (experiment,) = shell.server.experiments.values()
    assert experiment["display_name"] == "exp"
    assert "consume: SUCCEEDED" in handle._repr_mimebundle_()["text/plain"]


def test_run_without_wait_attaches_a_live_status_widget(shell):
    handle = kfp_secret(shell, "run nested")
    status = handle._view
    assert status is not None
    status.join(10)
    assert handle.state == "SUCCEEDED" and not status.polling
    assert "SUCCEEDED" in status.line.value
    bundle = handle._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith(f"Run {handle.name!r}")


def test_stop_button_stops_polling_not_the_run(shell):
    shell.server.script = [("PENDING", {}), ("RUNNING", {"consume": "RUNNING"})]
    shell.run_line_magic("config", "KfpSecretMagics.poll_interval = 0.05")
    handle = kfp_secret(shell, "run nested")
    status = handle._view
    status.stop_button.click()
    status.join(5)
    assert not status.polling and status.stop_button.disabled
    assert handle.state in ("PENDING", "RUNNING")


def test_run_refused_by_the_check_and_no_check(shell):
    with pytest.raises(UsageError, match="pre-run secret check failed.*secret 'nope'.*--no-check"):
        kfp_secret(shell, "run nested --arg secret_name=nope")
    assert not shell.server.runs
    handle = kfp_secret(shell, "run nested --arg secret_name=nope --no-check --wait")
    assert handle.state == "SUCCEEDED"


def test_version_skew_guard_from_config(shell):
    @dsl.pipeline(name="literal")
    def literal():
        task = consume(text="x")
        kubernetes.use_secret_as_env(task, "db-creds", {"user": "U"})

    shell.user_ns["literal"] = literal
    shell.run_line_magic("config", "KfpSecretMagics.backend_version = '2.4.0'")
    with pytest.raises(UsageError, match="cannot send 'nested' to backend 2.4.0 \\(< 2.5.0"):
        kfp_secret(shell, "run nested")
    with pytest.raises(UsageError, match="--legacy-secret-name"):
        kfp_secret(shell, "run literal --no-resolve")
    shell.server.backend_version = "2.4.0"
    assert kfp_secret(shell, "run literal --no-resolve --legacy-secret-name --wait").state == "SUCCEEDED"
    assert kfp_secret(shell, "run literal --wait").state == "SUCCEEDED"


def test_server_errors_become_usage_errors(shell):
    shell.server.fail(503, times=1, method="POST", path="/runs")
    with pytest.raises(UsageError, match="server error 503.*not retried"):
        kfp_secret(shell, "run nested")
    shell.server.token = "t0k"
    with pytest.raises(UsageError, match="401 Unauthorized"):
        kfp_secret(shell, "run nested")
    shell.run_line_magic("config", "KfpSecretMagics.existing_token = 't0k'")
    assert kfp_secret(shell, "run nested --wait").state == "SUCCEEDED"


def test_local_dispatches_to_run_local(shell, monkeypatch):
    import kfp_nbsecrets.local_run as local

    calls = []
    monkeypatch.setattr(local, "run_local", lambda pipeline, arguments=None, source=None:
                        calls.append((pipeline, arguments, source)) or {"Output": "ok"})
    line = "run nested --local --arg secret_name=db-creds --source memory"
    assert kfp_secret(shell, line) == {"Output": "ok"}
    assert calls == [(shell.user_ns["nested"], {"secret_name": "db-creds"}, "memory")]
    assert not shell.server.requests


@pytest.mark.parametrize("line, message", [
    ("run nested --timeout 5", "--timeout applies to --wait only"),
    ("run nested --wait --timeout 0", "--timeout 0: give a number of seconds above 0"),
    ("run nested --local --legacy-secret-name", "--legacy-secret-name applies to runs submitted to KFP"),
    ("run nested --local --wait --experiment e", "--experiment, --wait apply to runs submitted to KFP"),
    ("run nested --no-check --source memory", "--source tells the pre-run check where to look"),
    ("run nested --legacy-secret-name", "--legacy-secret-name applies with --no-resolve only"),
    ("schedule nested --cron '0 2 * * *' --no-check --source k8s", "--source tells the pre-run check"),
])
def test_options_that_would_do_nothing_are_refused(shell, line, message):
    with pytest.raises(UsageError, match=message):
        kfp_secret(shell, line)
    assert not shell.server.requests


def test_schedule_creates_a_recurring_run(shell):
    job = kfp_secret(shell, "schedule nested --cron '0 2 * * *' --arg secret_name=db-creds"
                            " --max-concurrency 2 --name nightly --experiment exp")
    (created,) = shell.server.recurring_runs.values()
    assert created["trigger"]["cron_schedule"]["cron"] == "0 0 2 * * *" and created["max_concurrency"] == "2"
    assert job.name == "nightly" and "a secret deleted or renamed later" in repr(job)
    with pytest.raises(UsageError, match="pre-run secret check failed.*secret 'nope'"):
        kfp_secret(shell, "schedule nested --cron @daily --arg secret_name=nope")
    with pytest.raises(UsageError, match="max concurrency 11 is out of the backend's range"):
        kfp_secret(shell, "schedule nested --cron @daily --max-concurrency 11")
    with pytest.raises(UsageError, match="the following arguments are required: --cron"):
        kfp_secret(shell, "schedule nested")
    assert len(shell.server.recurring_runs) == 1


def test_upload_a_pipeline_and_a_version(shell):
    made = kfp_secret(shell, "upload nested --name team-etl --description 'for the team'")
    assert made.url.endswith(f"/#/pipelines/details/{made.pipeline_id}")
    version = kfp_secret(shell, "upload nested --name team-etl --version v2")
    assert version.version == "v2" and "/version/" in version.url
    with pytest.raises(UsageError, match="exists already.*--version"):
        kfp_secret(shell, "upload nested --name team-etl")
    shell.server.backend_version = "2.2.0"
    with pytest.raises(UsageError, match="backend 2.2.0 .*literal names only"):
        kfp_secret(shell, "upload nested --name other")


def test_stop_button_stops_a_read_that_hangs(shell):
    shell.server.script = [("PENDING", {}), ("RUNNING", {"consume": "RUNNING"})]
    handle = kfp_secret(shell, "run nested")
    status = handle._view
    shell.server.hang(times=1000, method="GET", path="/runs/")
    status.join(0.5)  # the poller is now inside a read the server never answers (kfp_timeout 30 s)
    status.stop_button.click()
    status.join(2)
    assert not status.polling and status.failure is None
    assert "updates stopped" in status.line.value


@pytest.mark.parametrize("raised, shown, escapes", [
    (BackendTimeout("reading the run: no answer from the KFP API"), "no answer from the KFP API", False),
    (AttributeError("a bug"), "internal error: AttributeError", True),
])
def test_the_poller_shows_why_it_stopped_and_a_bug_keeps_its_traceback(shell, monkeypatch, raised, shown,
                                                                       escapes):
    shell.server.script = [("PENDING", {}), ("RUNNING", {"consume": "RUNNING"})]
    handle = kfp_secret(shell, "run nested")
    handle._view.stop()
    handle._view.join(5)
    escaped = []
    monkeypatch.setattr("threading.excepthook", escaped.append)

    def wait(**_):
        raise raised

    monkeypatch.setattr(handle, "wait", wait)
    status = RunStatus(handle)
    status.join(5)
    assert shown in status.failure and shown in status.line.value and status.stop_button.disabled
    assert [args.exc_value for args in escaped] == ([raised] if escapes else [])
