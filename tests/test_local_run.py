"""Real kfp.local runs (SubprocessRunner, no venv, no pip) with secrets injected by run_local.

Components report a sha256 prefix of what they received, never the value; every test also checks
that the canary values reached no log, output, file under the pipeline root or leftover temp dir.
"""

import asyncio
import hashlib
import logging
import os
import re
import stat
import tempfile
from typing import Optional

import pytest
from kfp import dsl, local

from kfp_nbsecrets import attach, sources
from kfp_nbsecrets.local_run import LocalRunSecretError, hook, run_local, sandbox
from kfp_nbsecrets.sources.memory import MemorySource

CANARY_PW = "canary-PW-6f1d9b2e"
CANARY_USER = "canary-USER-0a7c44"
CANARY_A = "canary-A-91e0b7"
CANARY_B = "canary-B-33d5aa"
CANARIES = (CANARY_PW, CANARY_USER, CANARY_A, CANARY_B)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------- components


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def report(label: str, env_names: list, mount: str) -> str:
    """Prints one REPORT line: digests of the env vars and of the files at ``mount``."""
    import hashlib
    import os

    def dig(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:12]

    parts = [label]
    for name in env_names:
        value = os.environ.get(name)
        parts.append(f"env:{name}={dig(value.encode()) if value is not None else '-'}")
    if mount:
        if os.path.isdir(mount):
            for name in sorted(os.listdir(mount)):
                with open(os.path.join(mount, name), "rb") as handle:
                    parts.append(f"file:{name}={dig(handle.read())}")
        else:
            parts.append("nomount")
    line = " ".join(parts)
    print("REPORT " + line)
    return line


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def make_name(name: str) -> str:
    return name


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def slow(seconds: float) -> str:
    import time

    time.sleep(seconds)
    return "done"


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture
def source():
    return MemorySource({
        "db": {"password": CANARY_PW, "user": CANARY_USER},
        "team-a": {"token": CANARY_A},
        "team-b": {"token": CANARY_B},
    })


@pytest.fixture
def env(tmp_path, monkeypatch, caplog, capfd):
    """Private temp dir and pipeline root; afterwards checks that no canary leaked anywhere."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    caplog.set_level(logging.DEBUG)
    environ_before = _environ()
    secrets_dir_before = os.path.exists("/secrets")
    from kfp.local import config

    monkeypatch.setattr(config.LocalExecutionConfig, "instance", config.LocalExecutionConfig.instance)
    root = tmp_path / "root"
    state = {"root": str(root), "tmp": tmp, "outputs": []}

    def run(pipeline, arguments=None, src=None, **kwargs):
        outputs = run_local(pipeline, arguments, source=src,
                            runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root), **kwargs)
        state["outputs"].append(repr(outputs))
        return outputs

    state["run"] = run
    yield state
    out, err = capfd.readouterr()
    texts = [out, err, caplog.text, *state["outputs"], *_seen]
    _seen.clear()
    for path in _files_under(tmp_path):
        with open(path, "rb") as handle:
            texts.append(handle.read().decode("utf-8", "replace"))
    for canary in CANARIES:
        assert not any(canary in text for text in texts), f"canary {canary} leaked"
    assert not [name for name in os.listdir(tmp) if name.startswith(sandbox.TEMP_PREFIX)]
    assert _environ() == environ_before
    assert os.path.exists("/secrets") == secrets_dir_before, "a mount path was created on the host"


def _environ():
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


def _files_under(top):
    for folder, _, files in os.walk(top):
        for name in files:
            yield os.path.join(folder, name)


_seen: list[str] = []  # output consumed by reports(), kept for the leak check of the fixture


def reports(capfd) -> list[str]:
    out, err = capfd.readouterr()
    _seen.extend((out, err))
    return sorted(re.findall(r"^\s*REPORT (.*)$", out, flags=re.M))


def _run_report(env, capfd, pipeline, arguments=None, src=None):
    env["run"](pipeline, arguments, src)
    return reports(capfd)


# ---------------------------------------------------------------------------------- env / volume


def test_literal_env_and_volume(env, capfd, source):
    @dsl.pipeline(name="literal")
    def pipe():
        task = report(label="t", env_names=["DB_PASSWORD", "DB_USER"], mount="/secrets/db")
        attach.use_secret_as_env(task, "db", {"password": "DB_PASSWORD", "user": "DB_USER"})
        attach.use_secret_as_volume(task, "db", "/secrets/db")

    assert _run_report(env, capfd, pipe, src=source) == [
        f"t env:DB_PASSWORD={digest(CANARY_PW)} env:DB_USER={digest(CANARY_USER)}"
        f" file:password={digest(CANARY_PW)} file:user={digest(CANARY_USER)}"
    ]


def test_other_kubernetes_settings_are_named_in_a_warning(env, capfd, source):
    from kfp import kubernetes

    @dsl.pipeline(name="ignored")
    def pipe():
        task = report(label="t", env_names=["DB_PASSWORD"], mount="")
        attach.use_secret_as_env(task, "db", {"password": "DB_PASSWORD"})
        kubernetes.add_node_selector(task, label_key="pool", label_value="gpu")
        kubernetes.use_config_map_as_env(task, "settings", {"mode": "MODE"})

    with pytest.warns(UserWarning, match=r"kfp.local ignores .*exec-report: configMapAsEnv, nodeSelector"):
        assert _run_report(env, capfd, pipe, src=source) == [f"t env:DB_PASSWORD={digest(CANARY_PW)}"]


def test_plain_kfp_local_ignores_secrets_and_env_stays_out_of_kernel(env, capfd, source):
    """Without run_local the binding is dropped (the gap), and run_local leaves os.environ alone."""

    @dsl.pipeline(name="gap")
    def pipe():
        task = report(label="t", env_names=["DB_PASSWORD"], mount="")
        attach.use_secret_as_env(task, "db", {"password": "DB_PASSWORD"})

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=env["root"])
    pipe()
    assert reports(capfd) == ["t env:DB_PASSWORD=-"]
    assert _run_report(env, capfd, pipe, src=source) == [f"t env:DB_PASSWORD={digest(CANARY_PW)}"]
    assert "DB_PASSWORD" not in os.environ


def test_name_from_pipeline_parameter_and_default_source(env, capfd, source):
    @dsl.pipeline(name="param")
    def pipe(secret: str = "team-a"):
        task = report(label="t", env_names=["TOKEN"], mount="/etc/team-token")
        attach.use_secret_as_env(task, secret, {"token": "TOKEN"})
        attach.use_secret_as_volume(task, secret, "/etc/team-token")

    sources.configure(source=source)
    try:
        assert _run_report(env, capfd, pipe, {"secret": "team-b"}) == [
            f"t env:TOKEN={digest(CANARY_B)} file:token={digest(CANARY_B)}"]
        assert _run_report(env, capfd, pipe) == [
            f"t env:TOKEN={digest(CANARY_A)} file:token={digest(CANARY_A)}"]
    finally:
        sources.reset_configuration()
    assert not os.path.exists("/etc/team-token")


def test_name_from_task_output(env, capfd, source):
    @dsl.pipeline(name="output")
    def pipe(which: str = "team-b"):
        made = make_name(name=which)
        task = report(label="t", env_names=["TOKEN"], mount="/secrets/out")
        attach.use_secret_as_env(task, made.output, {"token": "TOKEN"})
        attach.use_secret_as_volume(task, "{{tasks.make-name.Output}}", "/secrets/out")

    assert _run_report(env, capfd, pipe, src=source) == [
        f"t env:TOKEN={digest(CANARY_B)} file:token={digest(CANARY_B)}"]


def test_loop_items_each_iteration_its_own_secret(env, capfd, source):
    @dsl.pipeline(name="loop")
    def pipe(names: list = ["team-a", "team-b"]):
        with dsl.ParallelFor(names) as name:
            task = report(label="loop", env_names=["TOKEN"], mount="/secrets/loop")
            attach.use_secret_as_env(task, name, {"token": "TOKEN"})
            attach.use_secret_as_volume(task, name, "/secrets/loop")

    assert _run_report(env, capfd, pipe, src=source) == sorted([
        f"loop env:TOKEN={digest(CANARY_A)} file:token={digest(CANARY_A)}",
        f"loop env:TOKEN={digest(CANARY_B)} file:token={digest(CANARY_B)}",
    ])


@dsl.pipeline(name="inner")
def inner_pipeline(inner_secret: str = "team-a"):
    task = report(label="inner", env_names=["TOKEN"], mount="/secrets/inner")
    attach.use_secret_as_env(task, inner_secret, {"token": "TOKEN"})
    attach.use_secret_as_volume(task, inner_secret, "/secrets/inner")


def test_nested_sub_pipeline_and_condition(env, capfd, source):
    @dsl.pipeline(name="nested")
    def pipe(secret: str = "team-b", gate: str = "go"):
        made = make_name(name=gate)
        inner_pipeline(inner_secret=secret)
        with dsl.If(made.output == "go"):
            task = report(label="if", env_names=["DB_USER"], mount="")
            attach.use_secret_as_env(task, "db", {"user": "DB_USER"})
            inner_pipeline(inner_secret="team-a")
        with dsl.Else():
            report(label="else", env_names=["DB_USER"], mount="")

    assert _run_report(env, capfd, pipe, src=source) == sorted([
        f"inner env:TOKEN={digest(CANARY_B)} file:token={digest(CANARY_B)}",
        f"inner env:TOKEN={digest(CANARY_A)} file:token={digest(CANARY_A)}",
        f"if env:DB_USER={digest(CANARY_USER)}",
    ])


# ------------------------------------------------------------------------------ optional / errors


def test_optional_present_and_absent(env, capfd, source):
    @dsl.pipeline(name="optional")
    def pipe():
        task = report(label="t", env_names=["DB_USER", "GONE", "NOKEY"], mount="/secrets/gone")
        attach.use_secret_as_env(task, "db", {"user": "DB_USER"}, optional=True)
        attach.use_secret_as_env(task, "no-such-secret", {"token": "GONE"}, optional=True)
        attach.use_secret_as_env(task, "team-a", {"nokey": "NOKEY"}, optional=True)
        attach.use_secret_as_volume(task, "absent", "/secrets/gone", optional=True)

    assert _run_report(env, capfd, pipe, src=source) == [
        f"t env:DB_USER={digest(CANARY_USER)} env:GONE=- env:NOKEY=- nomount"]


def test_null_parameter_skips_the_entry(source):
    """kfp.local refuses None as an argument or default, so the null reaches resolution directly."""
    from kfp.local import io

    @dsl.pipeline(name="null-param")
    def pipe(secret: Optional[str] = "team-a"):  # noqa: UP045 (kfp needs typing.Optional)
        task = report(label="t", env_names=["TOKEN"], mount="")
        attach.use_secret_as_env(task, secret, {"token": "TOKEN"})

    bindings = hook.entries_by_executor(pipe.platform_spec)
    (binding,) = bindings["exec-report"]
    run = hook._Injection(bindings, source)
    store = io.IOStore()
    store.put_parent_input("secret", None)
    assert run.resolve_name("report", binding, store) is None
    prepared = run.prepare("report", "exec-report", store)
    assert prepared.env == {} and prepared.tempdir is None
    store.put_parent_input("secret", "team-a")
    assert repr(run.prepare("report", "exec-report", store)) == "<_Prepared env=['TOKEN'] volumes=[]>"


def _expect_failure(env, pipeline, arguments, src, *fragments) -> LocalRunSecretError:
    with pytest.raises(LocalRunSecretError) as info:
        env["run"](pipeline, arguments, src)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_missing_secret_and_missing_key_fail_before_the_task_starts(env, capfd, source):
    @dsl.pipeline(name="missing")
    def pipe(secret: str = "db", key: str = "password"):
        task = report(label="t", env_names=["X"], mount="")
        attach.use_secret_as_env(task, secret, {"password": "X"})

    error = _expect_failure(env, pipe, {"secret": "nope"}, source, "'report'", "'nope'", "'password'",
                            "not found")
    assert (error.task, error.secret, error.key) == ("report", "nope", "password")
    error = _expect_failure(env, pipe, {"secret": "team-a"}, source, "'report'", "'team-a'", "'password'")
    assert (error.secret, error.key) == ("team-a", "password")
    assert reports(capfd) == []  # the task never ran

    @dsl.pipeline(name="missing-volume")
    def vol():
        task = report(label="t", env_names=[], mount="/secrets/x")
        attach.use_secret_as_volume(task, "nope", "/secrets/x")

    _expect_failure(env, vol, None, source, "'report'", "'nope'", "/secrets/x")


def test_invalid_resolved_name(env, capfd, source):
    @dsl.pipeline(name="invalid")
    def pipe(secret: str = ""):
        made = make_name(name=secret)
        task = report(label="t", env_names=["X"], mount="")
        attach.use_secret_as_env(task, made.output, {"password": "X"})

    _expect_failure(env, pipe, None, source, "'report'", "output 'Output' of task 'make-name'",
                    "empty string", "non-empty string")


def test_no_mount_namespace_fails_clearly(env, capfd, source, monkeypatch):
    monkeypatch.setattr(sandbox, "sandbox_problem",
                        lambda: "the 'bwrap' program is not installed; install bubblewrap")

    @dsl.pipeline(name="nosandbox")
    def pipe():
        task = report(label="t", env_names=[], mount="/secrets/db")
        attach.use_secret_as_volume(task, "db", "/secrets/db")

    _expect_failure(env, pipe, None, source, "'report'", "/secrets/db", "bubblewrap")
    assert reports(capfd) == []


def test_probe_reports_missing_bwrap(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "bubblewrap" in sandbox._probe_sandbox()


# ---------------------------------------------------------------------------------- hygiene


def test_interrupt_removes_the_temp_dir(env, source, monkeypatch):
    """A KeyboardInterrupt while the task runs: the private dir is gone afterwards, the patch undone."""
    from kfp.local import subprocess_task_handler
    from kfp.local.orchestrator import task_executor

    from kfp_nbsecrets.local_run.processes import TaskProcesses

    original = task_executor.execute_single_task, subprocess_task_handler.run_local_subprocess
    seen = {}

    def interrupted(self, full_command, env_vars=None):
        root = sandbox.private_root()
        (name,) = os.listdir(root)
        path = os.path.join(root, name)
        seen["dir_mode"] = stat.S_IMODE(os.stat(path).st_mode), stat.S_IMODE(os.stat(root).st_mode)
        volume = os.path.join(path, "volume-0")
        seen["file_modes"] = {stat.S_IMODE(os.stat(os.path.join(volume, name)).st_mode)
                              for name in os.listdir(volume)}
        seen["env"] = sorted(env_vars or {})
        seen["argv_clean"] = not any(c in " ".join(full_command) for c in CANARIES)
        raise KeyboardInterrupt

    monkeypatch.setattr(TaskProcesses, "run_local_subprocess", interrupted)

    @dsl.pipeline(name="interrupt")
    def pipe():
        task = report(label="t", env_names=["DB_PASSWORD"], mount="/secrets/db")
        attach.use_secret_as_env(task, "db", {"password": "DB_PASSWORD"})
        attach.use_secret_as_volume(task, "db", "/secrets/db")

    with pytest.raises(KeyboardInterrupt):
        env["run"](pipe, None, source)
    assert seen == {"dir_mode": (0o700, 0o700), "file_modes": {0o600}, "env": ["DB_PASSWORD"],
                    "argv_clean": True}
    assert (task_executor.execute_single_task, subprocess_task_handler.run_local_subprocess) == original


def test_real_sigint_during_a_task(env, source):
    """An actual SIGINT (as Jupyter's interrupt button sends) while a task sleeps."""
    import signal
    import threading

    @dsl.pipeline(name="sigint")
    def pipe():
        task = slow(seconds=3.0)
        attach.use_secret_as_volume(task, "db", "/secrets/db")

    def interrupt_when_started():
        for _ in range(200):
            if any(d.startswith(sandbox.TEMP_PREFIX) for d in os.listdir(env["tmp"])):
                break
            threading.Event().wait(0.02)
        threading.Event().wait(0.3)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        env["run"](pipe, None, source)


def test_runs_inside_a_running_event_loop(env, capfd, source):
    @dsl.pipeline(name="in-loop")
    def pipe():
        task = report(label="t", env_names=["DB_USER"], mount="")
        attach.use_secret_as_env(task, "db", {"user": "DB_USER"})

    async def notebook_cell():
        assert asyncio.get_running_loop().is_running()
        return env["run"](pipe, None, source)

    asyncio.run(notebook_cell())
    assert reports(capfd) == [f"t env:DB_USER={digest(CANARY_USER)}"]


def test_patch_restored_after_failure_and_config_restored(env, source):
    from kfp.local import config
    from kfp.local.orchestrator import task_executor

    original = task_executor.execute_single_task
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=env["root"], raise_on_error=True)
    before = config.LocalExecutionConfig.instance

    @dsl.pipeline(name="restore")
    def pipe():
        task = report(label="t", env_names=["X"], mount="")
        attach.use_secret_as_env(task, "nope", {"k": "X"})

    with pytest.raises(LocalRunSecretError):
        env["run"](pipe, None, source)
    assert task_executor.execute_single_task is original
    assert config.LocalExecutionConfig.instance is before


def test_rejects_a_single_component(source):
    with pytest.raises(TypeError, match="pipeline"):
        run_local(report, {}, source=source)


def test_bwrap_arguments_mirror_without_touching_the_host(tmp_path):
    args = sandbox.bwrap_arguments([(str(tmp_path), "/secrets/db")], str(tmp_path))
    assert args[args.index("--ro-bind") + 1: args.index("--ro-bind") + 3] == [str(tmp_path), "/secrets/db"]
    assert "--dev-bind" in args and "/usr" in args


def test_raise_on_error_false_logs_and_returns_empty(env, caplog, source):
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=env["root"], raise_on_error=False)

    @dsl.pipeline(name="no-raise")
    def pipe():
        task = report(label="t", env_names=["X"], mount="")
        attach.use_secret_as_env(task, "nope", {"k": "X"})

    assert env["run"](pipe, None, source) == {}
    assert "secret 'nope'" in caplog.text and "'k'" in caplog.text


def test_pipeline_without_secrets_needs_no_source(env, capfd):
    @dsl.pipeline(name="no-secrets")
    def pipe():
        report(label="t", env_names=["X"], mount="")

    sources.configure(source="k8s", kubeconfig="/nonexistent/kubeconfig")
    try:
        assert _run_report(env, capfd, pipe) == ["t env:X=-"]
    finally:
        sources.reset_configuration()


def test_docker_runner_gets_read_only_bind_mounts(monkeypatch, tmp_path):
    """No docker engine here: check the runner copy that the DockerTaskHandler would receive."""
    import sys
    import types

    class Mount(dict):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

    fake = types.ModuleType("docker")
    fake.types = types.SimpleNamespace(Mount=Mount)
    monkeypatch.setitem(sys.modules, "docker", fake)
    runner = types.SimpleNamespace(container_run_args={"user": "1000", "mounts": [Mount(target="/data")]})
    copied = sandbox.docker_runner_with_mounts(runner, [(str(tmp_path), "/secrets//db/")])
    assert copied.container_run_args["mounts"][1] == {
        "target": "/secrets/db", "source": str(tmp_path), "type": "bind", "read_only": True}
    assert runner.container_run_args["mounts"] == [Mount(target="/data")]  # the user's runner is untouched


def test_a_parameter_added_by_bind_can_be_set_for_a_local_run(env, capfd, source):
    from kfp_nbsecrets.bind import bind

    @dsl.pipeline(name="bound-later")
    def pipe():
        report(label="t", env_names=["TOKEN"], mount="")

    bind(pipe, "report", "team-a", env={"token": "TOKEN"}, param="team_secret")
    assert _run_report(env, capfd, pipe, {"team_secret": "team-b"}, source) == \
        [f"t env:TOKEN={digest(CANARY_B)}"]
    assert _run_report(env, capfd, pipe, None, source) == [f"t env:TOKEN={digest(CANARY_A)}"]
