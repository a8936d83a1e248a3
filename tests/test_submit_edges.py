"""Safe at the edges: waits bounded by the caller's timeout whatever the KFP API does (hang, trickle,
5xx), no retry on refused connections, a reset run creation reported as "may exist", and the
kubelet's missing-key event recognised. The bounds asserted are the documented guarantee
(wall time <= timeout + 2 s), not performance figures."""

import socket
import time

import pytest
from kfp_server import KfpServer, isolate_client_environment
from kube_emulator import free_port
from pipelines import nested

from kfp_nbsecrets import submit
from kfp_nbsecrets.sources.memory import MemorySource

SECRETS = {"literal-creds": {"password": "p"}, "a-one": {"x": "1"}, "b-two": {"x": "2"},
           "db-creds": {"user": "u", "token": "t"}, "regcred": {".dockerconfigjson": "{}"}}
TYPES = {"regcred": "kubernetes.io/dockerconfigjson"}  # the image pull secret of nested()
SLACK = 2.0  # the guarantee: wall time <= timeout + 2 s


@pytest.fixture
def server(monkeypatch, tmp_path):
    isolate_client_environment(monkeypatch, tmp_path)
    running = KfpServer().start()
    running.script = [("PENDING", {}), ("RUNNING", {"consume": "RUNNING"})]  # never finishes
    try:
        yield running
    finally:
        running.stop()
        assert not running.problems


def go(server, **options):
    """A run submitted with the default backoff (1 s doubling) and a 30 s request timeout."""
    options.setdefault("source", MemorySource(SECRETS, types=TYPES))
    options.setdefault("pod_events", None)
    return submit.submit(nested(), host=server.url, **options)


def timed_wait(handle, timeout):
    started = time.monotonic()
    with pytest.raises(submit.BackendTimeout, match=f"still (PENDING|RUNNING) after {timeout:g} s"):
        handle.wait(timeout)
    return time.monotonic() - started


@pytest.mark.parametrize("fault", ["hang", "trickle", "fail"])
def test_wait_is_bounded_by_its_timeout_whatever_the_server_does(server, fault):
    handle = go(server)  # kfp_timeout 30 s: each read alone could outlast the wait
    if fault == "fail":
        server.fail(503, times=1000, method="GET", path="/runs/")
    else:
        getattr(server, fault)(times=1000, method="GET", path="/runs/")
    assert timed_wait(handle, 3) <= 3 + SLACK


def test_wait_bounded_with_a_short_request_timeout(server):
    handle = go(server, timeout=2)
    server.hang(times=1000, method="GET", path="/runs/")
    assert timed_wait(handle, 3) <= 3 + SLACK


def test_pod_events_fit_in_the_wait(server):
    server.script = [("RUNNING", {"consume": "PENDING"})]

    def stuck_cluster(namespace, pods):
        time.sleep(30)  # a Kubernetes API that does not answer
        return {}

    handle = go(server, namespace="team-a", pod_events=stuck_cluster)
    assert timed_wait(handle, 2) <= 2 + SLACK


def test_refused_host_is_not_retried():
    refused = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(submit.Unreachable, match="cannot reach the KFP API.*check the host"):
        submit.submit(nested(), host=refused, source=MemorySource(SECRETS, types=TYPES), pod_events=None)
    assert time.monotonic() - started < 1.0  # one attempt; the default backoff would add 0.5 s + 1 s + 2 s


def test_reset_after_the_run_was_created_says_it_may_exist(server):
    server.reset(method="POST", path="/apis/v2beta1/runs")
    with pytest.raises(submit.ConnectionLost) as lost:
        go(server, run_name="r1")
    message = str(lost.value)
    assert "creating run 'r1': the connection to the KFP API" in message
    assert "run 'r1' may exist all the same: look for it in the runs of experiment" in message
    assert "not retried, to avoid a duplicate" in message
    assert "check the host" not in message and "\n" not in message
    assert len(server.runs) == 1  # it did exist
    assert [r.path for r in server.requests if r.method == "POST"].count("/apis/v2beta1/runs") == 1


def test_reads_retry_a_reset_connection(server):
    handle = go(server)
    server.reset(times=1, method="GET", path="/runs/")
    assert handle.refresh().state in ("PENDING", "RUNNING")
    assert [r.method for r in server.requests if "/runs/" in r.path] == ["GET", "GET"]


def test_hanging_run_creation_is_bounded_by_the_request_timeout(server):
    server.hang(method="POST", path="/apis/v2beta1/runs")
    started = time.monotonic()
    with pytest.raises(submit.BackendTimeout, match="may exist all the same"):
        go(server, timeout=1)
    assert time.monotonic() - started <= 1 + SLACK


def test_pod_events_recognise_the_kubelets_missing_key_message():
    events = [
        {"involvedObject": {"kind": "Pod", "name": "p1"}, "reason": "Failed",
         "message": "Error: couldn't find key passwd in Secret team-a/db-creds"},
        {"involvedObject": {"kind": "Pod", "name": "p2"}, "reason": "Failed",
         "message": 'Error: secret "db-creds" not found'},
        {"involvedObject": {"kind": "Pod", "name": "p3"}, "reason": "Pulled", "message": "pulled"},
    ]
    assert submit.secret_problem_from_events(events, ["p1", "p2", "p3"]) == {
        "p1": "stuck on missing key 'passwd' of secret 'db-creds' (CreateContainerConfigError)",
        "p2": "stuck on missing secret 'db-creds' (CreateContainerConfigError)",
    }


def test_the_loopback_server_resets_for_real(server):
    """The injected reset is a TCP reset, as a proxy or a crashing server gives."""
    server.reset(method="GET", path="/apis/v2beta1/experiments")
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(b"GET /apis/v2beta1/experiments HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            while sock.recv(1024):
                pass
