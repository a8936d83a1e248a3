"""Submission through kfp.Client against the loopback KFP server (tests/kfp_server.py)."""

import json
import threading
import time
import urllib.error
import urllib.request

import kmock
import pytest
from kfp import dsl, kubernetes
from kfp_server import KfpServer, isolate_client_environment
from kube_emulator import KubeEmulator, free_port
from pipelines import consume, nested

from kfp_nbsecrets import ir, submit
from kfp_nbsecrets.check import PreRunCheckError
from kfp_nbsecrets.sources.errors import SourceUnavailable
from kfp_nbsecrets.sources.memory import MemorySource

FAST = submit.Backoff(0.01, 0.05)
SECRETS = {"literal-creds": {"password": "p"}, "a-one": {"x": "1"}, "b-two": {"x": "2"},
           "db-creds": {"user": "u", "token": "t"}, "regcred": {".dockerconfigjson": "{}"}}
TYPES = {"regcred": "kubernetes.io/dockerconfigjson"}  # the image pull secret of nested()
MEMORY = MemorySource(SECRETS, types=TYPES)
FAILED_SCRIPT = [("PENDING", {}), ("RUNNING", {"consume": "RUNNING"}),
                 ("FAILED", {"consume": "FAILED", "produce": "SUCCEEDED"})]


@pytest.fixture
def server(monkeypatch, tmp_path):
    isolate_client_environment(monkeypatch, tmp_path)
    running = KfpServer().start()
    try:
        yield running
    finally:
        running.stop()
        assert not running.problems


def literal_pipeline(optional: bool = False):
    @dsl.pipeline(name="literal")
    def literal_only(text: str = "x"):
        task = consume(text=text)
        kubernetes.use_secret_as_env(task, "db-creds", {"user": "DB_USER"}, optional=optional)
        kubernetes.use_secret_as_volume(task, "a-one", "/secrets/a")

    return literal_only


def go(server, pipeline=None, arguments=None, **options):
    options.setdefault("source", MemorySource(SECRETS, types=TYPES))
    options.setdefault("pod_events", None)
    options.setdefault("backoff", FAST)
    options.setdefault("timeout", 5)
    return submit.submit(pipeline or nested(), arguments, host=server.url, **options)


def test_submit_creates_experiment_and_run_with_valid_payload(server):
    handle = go(server, arguments={"secret_name": "db-creds"}, run_name="first")
    assert handle.name == "first" and handle.state == "PENDING"
    assert handle.url == f"{server.url}/#/runs/details/{handle.run_id}"
    runs = server.bodies("POST", "/apis/v2beta1/runs")
    assert len(runs) == 1
    body = runs[0]
    assert set(body["pipeline_spec"]) == {"pipeline_spec", "platform_spec"}
    assert body["runtime_config"] == {"parameters": {"secret_name": "db-creds"}}
    assert [e["display_name"] for e in server.experiments.values()] == ["Default"]
    go(server, run_name="second")
    assert len(server.experiments) == 1 and len(server.runs) == 2


def test_wait_reaches_success_with_task_states(server):
    handle = go(server)
    seen = []
    assert handle.wait(5, on_update=lambda h: seen.append(h.state)) == "SUCCEEDED"
    assert seen == ["RUNNING", "SUCCEEDED"]
    assert handle.task_states == {"consume": "SUCCEEDED"}
    bundle = handle._repr_mimebundle_()
    assert "SUCCEEDED" in bundle["text/plain"] and "consume: SUCCEEDED" in bundle["text/plain"]
    assert f"href='{handle.url}'" in bundle["text/html"]


def test_failed_run_shows_error_and_task_errors(server):
    server.script = FAILED_SCRIPT
    handle = go(server)
    assert handle.wait(5) == "FAILED"
    assert handle.error == "the run failed"
    assert handle.task_states == {"consume": "FAILED", "produce": "SUCCEEDED"}
    assert "task consume failed" in repr(handle)


def test_wait_timeout_and_stop(server):
    server.script = [("PENDING", {})] * 2 + [("RUNNING", {})]
    handle = go(server)
    with pytest.raises(submit.BackendTimeout, match="still RUNNING after 0.2 s"):
        handle.wait(0.2)
    stop = threading.Event()
    stop.set()
    assert handle.wait(None, stop=stop) == "RUNNING"


def test_secret_values_never_reach_the_server(server, tmp_path, monkeypatch):
    canary = "CANARY-b7e2-VALUE"
    emulator = KubeEmulator().start()
    try:
        monkeypatch.setenv("KUBECONFIG", str(emulator.write_kubeconfig(tmp_path, namespace="team-a")))
        for name, keys in SECRETS.items():
            emulator.add_secret(name, "team-a", {key: canary for key in keys}, type=TYPES.get(name, "Opaque"))
        handle = go(server, source="k8s", arguments={"secret_name": "db-creds"}, namespace="team-a")
        handle.wait(5)
    finally:
        emulator.stop()
    assert server.requests and all(canary not in r.body for r in server.requests)
    assert canary not in json.dumps([run.data for run in server.runs.values()])


def test_check_failure_stops_submission(server):
    with pytest.raises(PreRunCheckError, match="secret 'db-creds'.*not found"):
        go(server, source=MemorySource({"a-one": {}, "b-two": {}}))
    assert not server.runs
    go(server, source=MemorySource({}), check=False)
    assert len(server.runs) == 1


def test_run_creation_is_never_retried(server):
    server.fail(503, times=1, method="POST", path="/runs")
    with pytest.raises(submit.ServerError, match="server error 503.*not retried"):
        go(server)
    assert len([r for r in server.requests if r.method == "POST" and r.path.endswith("/runs")]) == 1
    assert not server.runs


def test_reads_are_retried_with_backoff(server):
    handle = go(server)
    server.fail(500, times=2, method="GET", path="/runs/")
    handle.refresh()
    assert handle.state == "RUNNING"
    server.fail(500, times=10, method="GET", path="/runs/")
    with pytest.raises(submit.ServerError, match="reading run .* server error 500"):
        handle.refresh()


def test_auth_token_cookie_and_service_account_token(server, tmp_path, monkeypatch):
    server.token = "tok-123"
    with pytest.raises(submit.AuthError, match="401 Unauthorized.*existing_token"):
        go(server)
    go(server, existing_token="tok-123")
    token_file = tmp_path / "sa-token"
    token_file.write_text("tok-123")
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token_file))
    go(server)
    server.token, server.cookie = None, "authservice_session=abc"
    with pytest.raises(submit.AuthError, match="403 Forbidden"):
        go(server)
    go(server, cookies="authservice_session=abc")
    assert len(server.runs) == 3


def test_endpoint_from_environment_and_namespace(server, monkeypatch):
    monkeypatch.setenv("KF_PIPELINES_ENDPOINT", server.url)
    handle = submit.submit(nested(), source=MEMORY, namespace="team-a", experiment="exp",
                           pod_events=None, backoff=FAST)
    experiment = server.experiments[handle.experiment_id]
    assert experiment["display_name"] == "exp" and experiment["namespace"] == "team-a"
    assert [r.path for r in server.requests if r.path.endswith("/healthz")] == ["/apis/v1beta1/healthz"]
    assert handle.backend == "2.17.0 (healthz)"


def test_missing_experiment_id_unreachable_host_and_timeout(server):
    with pytest.raises(submit.NotFoundError, match="experiment 'nope': not found"):
        go(server, experiment_id="nope")
    unreachable = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(submit.Unreachable, match="cannot reach the KFP API"):
        submit.submit(nested(), host=unreachable, source=MEMORY, pod_events=None, backoff=FAST)
    assert time.monotonic() - started < 5
    server.delay = 0.6
    with pytest.raises(submit.BackendTimeout, match="did not answer in time"):
        go(server, timeout=0.3, namespace="team-a")


def test_server_rejects_unknown_fields_like_the_go_backend(server):
    compiled = ir.load(literal_pipeline())
    executor = next(iter(compiled.kubernetes_executors().values()))
    executor["secretAsEnv"][0]["secretNamee"] = "typo"
    with pytest.raises(submit.RejectedError, match=r"\(400\).*secretNamee"):
        go(server, compiled, check=False)
    request = urllib.request.Request(f"{server.url}/apis/v2beta1/experiments", method="POST",
                                     data=json.dumps({"display_name": "x", "colour": "red"}).encode())
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    assert error.value.code == 400 and "colour" in error.value.read().decode()


def test_version_skew_before_2_5_without_resolution(server):
    server.backend_version, server.tag_name = "2.4.0", "unknown"  # no version reported: no guard
    with pytest.raises(submit.RejectedError, match='unknown field.*secretNameParameter'):
        go(server)
    with pytest.raises(submit.VersionSkewError, match="< 2.5.0.*upgrade the backend.*resolve_names=True"):
        go(server, backend_version="2.4.0", resolve_names=False, legacy_secret_name=True)
    with pytest.raises(submit.VersionSkewError, match="legacy_secret_name=True"):
        go(server, literal_pipeline(), backend_version="2.4.0", resolve_names=False)
    go(server, literal_pipeline(), backend_version="v2.4.0", resolve_names=False, legacy_secret_name=True)
    go(server, literal_pipeline(), backend_version="2.4.0")  # a literal name is resolved as itself
    first, second = server.runs.values()
    for run in (first, second):
        executors = run.data["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]
        entries = [e for config in executors["executors"].values() for e in config.get("secretAsEnv", [])]
        key_to_env = [{"secretKey": "user", "envVar": "DB_USER"}]
        assert entries == [{"secretName": "db-creds", "keyToEnv": key_to_env}]
    assert "description" not in second.data  # nothing came from a parameter


def test_version_skew_before_2_15_optional_env(server):
    server.backend_version = "2.14.1"  # detected from healthz
    with pytest.raises(submit.VersionSkewError, match="2.14.1 .*drop_optional=True"):
        go(server, literal_pipeline(optional=True))
    go(server, literal_pipeline(optional=True), drop_optional=True)
    with pytest.raises(submit.RejectedError, match='unknown field.*"optional"'):
        go(server, literal_pipeline(optional=True), backend_version="2.17.0")  # a wrong version setting
    server.backend_version = "2.15.0"
    go(server, literal_pipeline(optional=True))
    assert len(server.runs) == 2
    assert submit.version_skew(literal_pipeline(True), None) == []
    with pytest.raises(ValueError, match="MAJOR.MINOR.PATCH"):
        submit.parse_version("latest")


def test_run_url_absolute_or_relative(monkeypatch):
    monkeypatch.delenv("KF_PIPELINES_UI_ENDPOINT", raising=False)

    class Fake:
        _uihost = None
        _nbsecrets_ui_host = None

    assert submit.run_url(Fake(), "r1") == "/pipeline/#/runs/details/r1"
    Fake._uihost = "http://ml-pipeline.kubeflow.svc.cluster.local:8888"
    assert submit.run_url(Fake(), "r1") == "/pipeline/#/runs/details/r1"
    Fake._nbsecrets_ui_host = "https://kf.example.com/pipeline/"
    assert submit.run_url(Fake(), "r1") == "https://kf.example.com/pipeline/#/runs/details/r1"


def test_pod_events_name_the_missing_secret(server):
    server.script = [("PENDING", {}), ("RUNNING", {"consume": "PENDING"})]
    calls = []

    def pod_events(namespace, pods):
        calls.append((namespace, pods))
        return submit.secret_problem_from_events([
            {"involvedObject": {"kind": "Pod", "name": pods[0]}, "reason": "Failed",
             "message": 'Error: secret "db-creds" not found'},
            {"involvedObject": {"kind": "Pod", "name": "other"}, "reason": "FailedMount",
             "message": 'MountVolume.SetUp failed for volume "x" : secret "x" not found'},
        ], pods)

    handle = go(server, namespace="team-a", pod_events=pod_events)
    handle.refresh()
    expected = "task consume: stuck on missing secret 'db-creds' (CreateContainerConfigError)"
    assert handle.problems == [expected]
    assert calls[0][0] == "team-a"
    assert "stuck on missing secret 'db-creds'" in handle._repr_mimebundle_()["text/plain"]


EVENTS = kmock.resource("", "v1", "events")


def test_kube_pod_events_reads_the_namespace_events(tmp_path, monkeypatch):
    emulator = KubeEmulator().start()
    try:
        monkeypatch.setenv("KUBECONFIG", str(emulator.write_kubeconfig(tmp_path, namespace="team-a")))

        def add():
            emulator.handler.resources[EVENTS] = kmock.ResourceInfo(namespaced=True, kind="Event",
                                                                    verbs={"list"})
            emulator.handler.objects[EVENTS, "team-a", "e1"] = {
                "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "team-a"},
                "involvedObject": {"kind": "Pod", "name": "pod-1"}, "reason": "FailedMount",
                "message": 'MountVolume.SetUp failed for volume "vol" : secret "vol" not found'}

        emulator.run(add)
        pod_events = submit.kube_pod_events(timeout=5)
        assert pod_events("team-a", ["pod-1", "pod-2"]) == {
            "pod-1": "stuck on missing secret 'vol' (FailedMount)"}
    finally:
        emulator.stop()
    with pytest.raises(SourceUnavailable, match="cannot list the events of namespace 'team-a'"):
        pod_events("team-a", ["pod-1"])  # the cluster has gone


def test_pod_events_that_fail_leave_the_run_states(server):
    server.script = [("PENDING", {}), ("RUNNING", {"consume": "PENDING"})]

    def unreachable(namespace, pods):
        raise SourceUnavailable("cannot list the events of namespace 'team-a': MaxRetryError")

    handle = go(server, namespace="team-a", pod_events=unreachable)
    assert handle.refresh().state == "RUNNING" and handle.problems == []

    def broken(namespace, pods):
        raise AttributeError("a bug")

    handle = go(server, namespace="team-a", pod_events=broken)
    with pytest.raises(AttributeError, match="a bug"):  # a bug keeps its traceback
        handle.refresh()


@pytest.mark.filterwarnings("ignore:This client only works:FutureWarning")
def test_plain_kfp_client_run_from_pipeline_func_sends_a_bound_secret(server):
    """A binding made after definition reaches the server through the user's own kfp.Client call."""
    import kfp

    from kfp_nbsecrets.bind import bind

    pipeline = nested()
    bind(pipeline, "exit-handler-1/for-loop-2/consume-3", "{{secret_name}}", env={"token": "API_TOKEN"})
    client = kfp.Client(host=server.url)
    client.create_run_from_pipeline_func(pipeline, arguments={"secret_name": "db-creds"}, run_name="plain",
                                         experiment_name="plain-client")
    (run,) = server.bodies("POST", "/apis/v2beta1/runs")
    kubernetes_spec = run["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]
    executors = kubernetes_spec["deploymentSpec"]["executors"]
    entries = [entry for config in executors.values() for entry in config.get("secretAsEnv", [])]
    assert {"keyToEnv": [{"secretKey": "token", "envVar": "API_TOKEN"}], "optional": False,
            "secretNameParameter": {"componentInputParameter": "pipelinechannel--secret_name"}} in entries
    assert run["runtime_config"]["parameters"] == {"secret_name": "db-creds"}


def test_a_bug_under_a_client_call_keeps_its_traceback(server, monkeypatch):
    """Only the KFP client's own failures (HTTP, connection, timeout) become one-line SubmitErrors."""
    import kfp_server_api

    def broken(self, *args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'run_id'")

    monkeypatch.setattr(kfp_server_api.RunServiceApi, "run_service_create_run", broken)
    with pytest.raises(AttributeError, match="no attribute 'run_id'"):
        go(server, arguments={"secret_name": "db-creds"})
