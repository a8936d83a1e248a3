"""Submission against the loopback KFP server modelling releases 2.2.0, 2.4.0, 2.5.0, current and an
unknown version: version detection, secret names resolved at submission, recurring runs, uploads."""

import json
import urllib.error
import urllib.request

import pytest
from kfp import dsl, kubernetes
from kfp_server import CURRENT_RELEASE, KfpServer, isolate_client_environment
from pipelines import consume, nested

from kfp_nbsecrets import submit
from kfp_nbsecrets.check import PreRunCheckError
from kfp_nbsecrets.sources.memory import MemorySource
from kfp_nbsecrets.submit.prepare import prepare

FAST = submit.Backoff(0.01, 0.05)
SECRETS = {"db-creds": {"user": "u", "token": "t"}, "team-b-db": {"user": "u", "token": "t"},
           "a-one": {"x": "1"}, "b-two": {"x": "2"}, "literal-creds": {"password": "p"}}


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    isolate_client_environment(monkeypatch, tmp_path)


@pytest.fixture
def backend(isolated):
    """``backend(release, tag_name=None)`` starts a loopback server emulating that release."""
    started = []

    def start(release=None, tag_name=None):
        server = KfpServer(backend_version=release, tag_name=tag_name).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
        assert not server.problems


def threaded():
    """A root parameter naming a secret, threaded into a loop, a condition in an exit handler, and a
    sub-pipeline."""

    @dsl.pipeline(name="inner")
    def inner(inner_secret: str):
        task = consume(text="in")
        kubernetes.use_secret_as_env(task, inner_secret, {"token": "TOKEN"})

    @dsl.pipeline(name="threaded")
    def threaded_pipeline(secret_name: str = "db-creds", names: list = ["a-one", "b-two"]):  # noqa: B006
        with dsl.ParallelFor(names) as item:
            looped = consume(text=item)
            kubernetes.use_secret_as_env(looped, secret_name, {"user": "DB_USER"})
        with dsl.ExitHandler(consume(text="cleanup")):
            with dsl.If(secret_name != "none"):
                checked = consume(text="if")
                kubernetes.use_secret_as_volume(checked, secret_name, "/secrets/db")
        inner(inner_secret=secret_name)

    return threaded_pipeline


def literal():
    @dsl.pipeline(name="literal")
    def literal_pipeline():
        task = consume(text="x")
        kubernetes.use_secret_as_env(task, "db-creds", {"user": "U"})

    return literal_pipeline


def go(server, pipeline=None, arguments=None, **options):
    options.setdefault("source", MemorySource(SECRETS))
    options.setdefault("pod_events", None)
    options.setdefault("backoff", FAST)
    options.setdefault("timeout", 5)
    return submit.submit(pipeline or threaded(), arguments, host=server.url, **options)


def secret_entries(body: dict) -> list[dict]:
    kubernetes = body["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]
    executors = kubernetes["deploymentSpec"]["executors"]
    return [entry for _, config in sorted(executors.items())
            for kind in ("secretAsEnv", "secretAsVolume") for entry in config.get(kind, [])]


def calls(server) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests]


@pytest.mark.parametrize("release", ["2.2.0", "2.4.0", "2.5.0", None])
def test_healthz_answers_like_each_release(backend, release):
    server = backend(release)
    answers = {}
    for api in ("v1beta1", "v2beta1"):
        with urllib.request.urlopen(f"{server.url}/apis/{api}/healthz", timeout=5) as response:
            answers[api] = json.loads(response.read())
    assert answers["v1beta1"]["tag_name"] == answers["v2beta1"]["tag_name"] == (release or CURRENT_RELEASE)
    assert "pipeline_store" not in answers["v1beta1"]
    assert ("pipeline_store" in answers["v2beta1"]) == (release is None)  # v2beta1 adds it from 2.14.0


@pytest.mark.parametrize("release, resolved", [("2.2.0", True), ("2.4.0", True), ("2.5.0", False),
                                               (None, False)])
def test_detected_version_drives_the_guard(backend, release, resolved):
    server = backend(release)
    handle = go(server, arguments={"secret_name": "team-b-db"})
    assert handle.backend == f"{release or CURRENT_RELEASE} (healthz)"
    (body,) = server.bodies("POST", "/apis/v2beta1/runs")
    entries = secret_entries(body)
    assert len(entries) == 3
    if resolved:
        assert all(entry["secretName"] == "team-b-db" and "secretNameParameter" not in entry
                   for entry in entries)
        assert "resolved secret names at submission for backend" in body["description"]
        assert any("team-b-db" in note for note in handle.notes)
        assert "note: kfp-nbsecrets resolved secret names" in repr(handle)
    else:  # 2.5 and later: nothing changes
        assert all("componentInputParameter" in entry["secretNameParameter"] for entry in entries)
        assert "description" not in body and handle.notes == []
    assert body["runtime_config"]["parameters"] == {"secret_name": "team-b-db"}
    # one health read, one experiment lookup and creation, one run creation: nothing retried
    assert calls(server) == ["GET /apis/v2beta1/healthz", "GET /apis/v2beta1/experiments",
                             "POST /apis/v2beta1/experiments", "POST /apis/v2beta1/runs"]


def test_unknown_or_dev_version_means_no_guard_with_a_note(backend):
    server = backend("2.4.0", tag_name="unknown")
    with pytest.raises(submit.RejectedError, match='unknown field.*secretNameParameter'):
        go(server)  # no guard: the old backend's own rejection comes back
    handle = go(server, backend_version="2.4.0")  # a configured version wins over the server's
    assert handle.backend == "2.4.0 (configured)" and len(server.runs) == 1
    server.backend_version, server.tag_name = None, "2.18.0-dev"
    handle = go(server)
    assert handle.backend == "2.18.0-dev (healthz)"
    (note,) = handle.notes
    assert "reports '2.18.0-dev', not a release" in note and "guard off" in note and "\n" not in note
    assert f"note: {note}" in repr(handle)


def test_2_2_sends_one_literal_per_run_in_loop_condition_and_sub_pipeline(backend):
    server = backend("2.2.0")
    first = go(server, arguments={"secret_name": "db-creds"}, run_name="a")
    second = go(server, arguments={"secret_name": "team-b-db"}, run_name="b")
    default = go(server, run_name="c")
    bodies = server.bodies("POST", "/apis/v2beta1/runs")
    names = [{entry["secretName"] for entry in secret_entries(body)} for body in bodies]
    assert names == [{"db-creds"}, {"team-b-db"}, {"db-creds"}]
    # the description (VARCHAR(255) up to 2.14) lists what fits; the handle's note lists all
    assert all(len(body["description"]) <= 255 for body in bodies)
    assert "argument secret_name -> 'team-b-db'" in bodies[1]["description"]
    assert "default of secret_name -> 'db-creds'" in bodies[2]["description"]
    (note,) = first.notes
    assert all(part in note for part in ("for-loop-1/consume", "inner/consume", "condition-3", "(volume)"))
    assert note.startswith(bodies[0]["description"].rsplit("; and ", 1)[0])
    assert [h.run_id for h in (first, second, default)] == list(server.runs)
    assert calls(server).count("POST /apis/v2beta1/runs") == 3
    assert calls(server).count("GET /apis/v2beta1/healthz") == 3


def test_2_2_server_refuses_a_description_longer_than_its_column(backend):
    server = backend("2.2.0")
    experiment = server.add_experiment("e")
    spec = prepare(threaded(), {"secret_name": "db-creds"}, host=server.url, check=False,
                   experiment_id=experiment, timeout=5).payload()
    request = urllib.request.Request(f"{server.url}/apis/v2beta1/runs", method="POST", data=json.dumps(
        {"display_name": "r", "experiment_id": experiment, "pipeline_spec": spec, "description": "x" * 256,
         "runtime_config": {}}).encode())
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 500
    assert "Data too long for column 'Description'" in refused.value.read().decode()


def test_2_2_refuses_names_known_only_while_the_run_runs(backend):
    server = backend("2.2.0")
    with pytest.raises(submit.VersionSkewError) as refused:
        go(server, nested(), {"secret_name": "db-creds"})
    message = str(refused.value)
    assert "\n" not in message
    assert ("task exit-handler-1/condition-branches-3/condition-5/consume-5: the secret name comes from"
            " {{tasks.produce.Output}}, known only while the run runs") in message
    assert "pass it as a pipeline parameter (--arg)" in message
    assert "task exit-handler-1/for-loop-2/consume-3: the loop's items" in message
    assert "name different secrets ('a-one', 'b-two')" in message
    assert not [c for c in calls(server) if c.startswith("POST")]


@pytest.mark.parametrize("name, problem", [("", "non-empty string"), ("Team_B", "Team_B"),
                                           ("db.creds", "db.creds")])
def test_2_2_refuses_an_invalid_resolved_name_before_sending(backend, name, problem):
    server = backend("2.2.0")
    with pytest.raises(submit.VersionSkewError, match=f"argument secret_name gives .*{problem}"):
        go(server, arguments={"secret_name": name}, check=False)
    assert not server.runs and not [c for c in calls(server) if c.startswith("POST")]


def test_2_2_opt_out_and_the_check_of_resolved_names(backend):
    server = backend("2.2.0")
    with pytest.raises(submit.VersionSkewError, match="upgrade the backend to 2.5.0"):
        go(server, resolve_names=False)
    with pytest.raises(PreRunCheckError, match="secret 'team-c-db'") as failed:
        go(server, arguments={"secret_name": "team-c-db"})
    checked = {(item.name, item.origin) for item in failed.value.result.items}
    assert checked == {("team-c-db", "literal")}  # the check saw the names that would be sent
    assert not server.runs


# -- recurring runs ----------------------------------------------------------------------------


def schedule(server, arguments=None, pipeline=None, **options):
    options.setdefault("source", MemorySource(SECRETS))
    options.setdefault("backoff", FAST)
    options.setdefault("timeout", 5)
    return submit.schedule(pipeline or threaded(), arguments, host=server.url, **options)


def test_schedule_creates_a_valid_recurring_run_and_lists_its_runs(backend):
    server = backend()
    job = schedule(server, {"secret_name": "team-b-db"}, cron="0 2 * * *", name="nightly", max_concurrency=2)
    (body,) = server.bodies("POST", "/apis/v2beta1/recurringruns")
    assert body["trigger"] == {"cron_schedule": {"cron": "0 0 2 * * *"}}
    assert body["mode"] == "ENABLE" and body["max_concurrency"] == "2"
    assert body["runtime_config"] == {"parameters": {"secret_name": "team-b-db"}}
    assert job.cron == "0 0 2 * * *" and job.status == "ENABLED"
    assert job.url == f"{server.url}/#/recurringrun/details/{job.recurring_run_id}"
    text = repr(job)
    assert "cron '0 0 2 * * *' (from '0 2 * * *')" in text and "latest runs: none yet" in text
    assert "a secret deleted or renamed later makes every future run of this schedule hang" in text
    go(server, run_name="unrelated", arguments={"secret_name": "db-creds"})
    fired = [server.fire(job.recurring_run_id) for _ in range(2)]
    assert [run.run_id for run in job.refresh().runs] == fired[::-1]
    assert "latest runs:\n    nightly-" in repr(job)
    assert "&#9888;" in job._repr_mimebundle_()["text/html"]


def test_schedule_on_2_2_resolves_names_and_checks_at_creation(backend):
    server = backend("2.2.0")
    job = schedule(server, {"secret_name": "team-b-db"}, cron="@daily")
    (body,) = server.bodies("POST", "/apis/v2beta1/recurringruns")
    assert {entry["secretName"] for entry in secret_entries(body)} == {"team-b-db"}
    assert body["trigger"]["cron_schedule"]["cron"] == "@daily"
    assert job.backend == "2.2.0 (healthz)" and "resolved secret names" in body["description"]
    with pytest.raises(PreRunCheckError, match="secret 'nope'"):
        schedule(server, {"secret_name": "nope"}, cron="0 2 * * *")
    with pytest.raises(submit.VersionSkewError, match="tasks.produce.Output"):
        schedule(server, pipeline=nested(), cron="0 2 * * *")
    assert len(server.recurring_runs) == 1


def test_schedule_refusals(backend):
    server = backend()
    for concurrency in (0, 11, True):
        with pytest.raises(submit.InvalidRequestError, match="from 1 to 10"):
            schedule(server, cron="0 2 * * *", max_concurrency=concurrency)
    with pytest.raises(submit.InvalidRequestError, match="has 3 fields"):
        schedule(server, cron="0 2 *")
    assert not server.requests
    with pytest.raises(submit.RejectedError, match=r"\(400\).*cron is not a supported format.*above maximum"):
        schedule(server, cron="0 61 * * *")
    assert not server.recurring_runs


def test_server_validates_recurring_runs_like_the_spec(backend):
    server = backend()
    experiment = server.add_experiment("e")
    spec = prepare(threaded(), None, host=server.url, check=False, experiment_id=experiment,
                          timeout=5).payload()
    good = {"display_name": "j", "experiment_id": experiment, "pipeline_spec": spec, "max_concurrency": 1,
            "mode": "ENABLE", "trigger": {"cron_schedule": {"cron": "0 0 2 * * *"}}}

    def post(body):
        request = urllib.request.Request(f"{server.url}/apis/v2beta1/recurringruns", method="POST",
                                         data=json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert post(good)[0] == 200
    status, answer = post({**good, "colour": "red"})
    assert status == 400 and "colour" in answer["message"]
    status, answer = post({**good, "trigger": {"cron_schedule": {"cron": "0 0 2 * * *", "tz": "UTC"}}})
    assert status == 400 and "tz" in answer["message"]
    status, answer = post({**good, "max_concurrency": 0})
    assert status == 400 and "Max concurrency" in answer["message"]
    status, answer = post({key: value for key, value in good.items() if key != "trigger"})
    assert status == 400 and "trigger" in answer["message"]
    assert len(server.recurring_runs) == 1


# -- uploads -----------------------------------------------------------------------------------


def upload(server, pipeline=None, name=None, **options):
    options.setdefault("backoff", FAST)
    options.setdefault("timeout", 5)
    return submit.upload(pipeline or threaded(), name, host=server.url, **options)


def test_upload_a_pipeline_then_a_version(backend):
    server = backend()
    made = upload(server, name="etl", description="nightly ETL")
    (pipeline,) = server.pipelines.values()
    assert pipeline["name"] == "etl" and made.pipeline_id == pipeline["pipeline_id"]
    assert made.url == f"{server.url}/#/pipelines/details/{made.pipeline_id}"
    first = server.uploads[0]
    assert first["query"] == {"name": "etl", "description": "nightly ETL"}
    assert len(first["documents"]) == 2  # the bindings travel in the platform spec
    assert len(secret_entries({"pipeline_spec": {"platform_spec": first["documents"][1]}})) == 3
    version = upload(server, name="etl", version="v2")
    assert version.pipeline_id == made.pipeline_id and version.version == "v2"
    assert version.url.endswith(f"/#/pipelines/details/{made.pipeline_id}/version/{version.version_id}")
    assert "Uploaded version 'v2' of pipeline 'etl'" in repr(version)
    with pytest.raises(submit.InvalidRequestError, match="exists already.*--version"):
        upload(server, name="etl")
    with pytest.raises(submit.InvalidRequestError, match="does not exist yet"):
        upload(server, name="other", version="v1")
    with pytest.raises(submit.RejectedError, match="409.*already exists"):
        upload(server, name="etl", version="v2")
    assert len(server.versions) == 2


def test_upload_to_2_2_takes_literal_names_only(backend):
    server = backend("2.2.0")
    with pytest.raises(submit.VersionSkewError, match="runs started later .* set; backend 2.2.0"):
        upload(server, name="threaded")

    made = upload(server, literal())
    assert made.name == "literal" and made.backend == "2.2.0 (healthz)"
    entries = secret_entries({"pipeline_spec": {"platform_spec": server.uploads[0]["documents"][1]}})
    assert entries == [{"secretName": "db-creds", "keyToEnv": [{"secretKey": "user", "envVar": "U"}]}]


def test_server_refuses_unknown_upload_parameters(backend):
    server = backend()
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"uploadfile\"; filename=\"p.yaml\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n{{}}\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(f"{server.url}/apis/v2beta1/pipelines/upload?name=x&colour=red",
                                     method="POST", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400 and "colour" in refused.value.read().decode()


def test_2_2_image_pull_secrets_are_sent_as_literal_names(backend):
    server = backend("2.2.0")

    @dsl.pipeline(name="pulls")
    def pulls(registry: str = "regcred"):
        kubernetes.set_image_pull_secrets(consume(text="x"), ["regcred"])

    @dsl.pipeline(name="pulls-from-parameter")
    def pulls_from_parameter(registry: str = "regcred"):
        kubernetes.set_image_pull_secrets(consume(text="x"), [registry])

    registry = MemorySource({**SECRETS, "regcred": {".dockerconfigjson": "{}"}},
                            types={"regcred": "kubernetes.io/dockerconfigjson"})
    go(server, pulls, source=registry)
    (body,) = server.bodies("POST", "/apis/v2beta1/runs")
    (executor,) = body["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"][
        "executors"].values()
    assert executor["imagePullSecret"] == [{"secretName": "regcred"}]
    with pytest.raises(submit.VersionSkewError, match="image pull secret named by a parameter"):
        go(server, pulls_from_parameter, source=registry)
    server.tag_name = "unknown"  # no guard: what the 2.2 backend itself answers
    with pytest.raises(submit.RejectedError, match="secretNameParameter.*ImagePullSecret"):
        go(server, pulls, source=registry)


def test_a_refused_health_check_leaves_the_version_unknown(backend):
    server = backend("2.4.0")
    server.fail(403, method="GET", path="/healthz", message="RBAC: access denied")
    with pytest.raises(submit.RejectedError, match="secretNameParameter"):  # no guard: the backend refuses
        go(server, namespace="team-a")
    server.fail(403, method="GET", path="/healthz", message="RBAC: access denied")
    server.backend_version = None
    handle = go(server, namespace="team-a")
    assert handle.backend == "unknown (healthz)"
    (note,) = handle.notes
    assert "refused the health check" in note and "403" in note and "guard off" in note


def test_secret_values_never_reach_the_server_on_2_2_schedules_and_uploads(backend, tmp_path, monkeypatch):
    from kube_emulator import KubeEmulator

    canary = "CANARY-51c3-VALUE"
    server = backend("2.2.0")
    emulator = KubeEmulator().start()
    try:
        monkeypatch.setenv("KUBECONFIG", str(emulator.write_kubeconfig(tmp_path, namespace="team-a")))
        for name, keys in SECRETS.items():
            emulator.add_secret(name, "team-a", {key: canary for key in keys})
        handle = go(server, source="k8s", namespace="team-a", arguments={"secret_name": "team-b-db"})
        job = schedule(server, {"secret_name": "team-b-db"}, source="k8s", namespace="team-a", cron="@daily")
        upload(server, literal(), "t", namespace="team-a")
    finally:
        emulator.stop()
    assert server.requests and all(canary not in r.raw.decode(errors="replace") for r in server.requests)
    assert all(canary not in text for text in (repr(handle), repr(job), json.dumps(server.uploads)))


def loop_over(names_default: list, in_exit_handler: bool):
    @dsl.pipeline(name="loop-over-names")
    def loop_over_names(names: list = names_default):
        def body():
            with dsl.ParallelFor(names) as name:
                kubernetes.use_secret_as_env(consume(text="x"), name, {"user": "U"})

        if in_exit_handler:
            with dsl.ExitHandler(consume(text="cleanup")):
                body()
        else:
            body()

    return loop_over_names


def test_2_2_a_loop_over_one_secret_is_sent_as_that_literal(backend):
    server = backend("2.2.0")
    handle = go(server, loop_over(["db-creds", "db-creds"], in_exit_handler=True))
    (body,) = server.bodies("POST", "/apis/v2beta1/runs")
    assert [entry["secretName"] for entry in secret_entries(body)] == ["db-creds"]
    assert ("exit-handler-1/for-loop-2/consume-2 (env): loop item of default of names (all 2 items)"
            " -> 'db-creds'") in handle.notes[0]


def test_2_2_a_top_level_loop_over_a_parameter(backend):
    server = backend("2.2.0")
    go(server, loop_over(["db-creds", "db-creds"], in_exit_handler=False))
