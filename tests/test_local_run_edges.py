"""Local runs at the edges: interrupts, concurrent runs, a full TMPDIR, kfp.local never initialised.

Real kfp.local runs (SubprocessRunner, bubblewrap for volumes); the leak checks of ``env`` apply.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import test_local_run
from kfp import dsl, local
from test_local_run import CANARY_PW, CANARY_USER, _seen

from kfp_nbsecrets import attach
from kfp_nbsecrets.errors import ConfigurationError, KfpNbSecretsError
from kfp_nbsecrets.local_run import LocalRunError, LocalRunSecretError, processes, run_local, sandbox

env, source = test_local_run.env, test_local_run.source  # the fixtures, with their leak checks


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def linger(marker_dir: str, seconds: float) -> str:
    """Starts a grandchild with the same environment, says it started, sleeps, says it finished."""
    import os
    import subprocess
    import time

    subprocess.Popen(["sleep", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    open(os.path.join(marker_dir, "started"), "w").close()
    deadline = time.time() + seconds
    while time.time() < deadline and not os.path.exists(os.path.join(marker_dir, "release")):
        time.sleep(0.05)
    open(os.path.join(marker_dir, "finished"), "w").close()
    return "done"


@dsl.component(base_image="python:3.11")  # installs kfp with pip, as a component does by default
def make_name(name: str) -> str:
    return name


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def fail_loudly(reason: str):
    import os

    print("the password is", os.environ["DB_PASSWORD"])
    raise ValueError(f"cannot go on: {reason}")


def _processes_with(text: str) -> list[int]:
    """Pids of live processes whose environment contains ``text``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if text.encode() in handle.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def _wait_for(path, seconds=60.0) -> None:
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _survivors_after_grace(text: str, seconds: float = 3.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := _processes_with(text)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in alive:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    return alive


# ------------------------------------------------------------------------------ interrupts


@pytest.mark.parametrize("shape", ["sequential", "parallel-for"])
def test_sigint_kills_every_process_of_the_task(env, source, tmp_path, shape):
    """SIGINT while the task (bwrap, a grandchild) runs: nothing with the secret survives the interrupt."""
    markers = tmp_path / "markers"
    markers.mkdir()

    def secret_task():
        task = linger(marker_dir=str(markers), seconds=8.0)
        attach.use_secret_as_env(task, "db", {"password": "DB_PASSWORD"})
        attach.use_secret_as_volume(task, "db", "/secrets/db")

    @dsl.pipeline(name=f"sigint-{shape}")
    def pipe():
        if shape == "sequential":
            secret_task()
        else:
            with dsl.ParallelFor(["only"]):
                secret_task()

    def interrupt_when_started():
        _wait_for(markers / "started")
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        env["run"](pipe, None, source)
    assert _survivors_after_grace(CANARY_PW) == []
    assert not (markers / "finished").exists(), "the interrupt waited for the task to end"


def test_task_processes_do_not_outlive_a_successful_run(env, source, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "release").touch()  # the task returns at once; its grandchild would sleep on

    @dsl.pipeline(name="leftover-child")
    def pipe() -> str:
        task = linger(marker_dir=str(markers), seconds=30.0)
        attach.use_secret_as_env(task, "db", {"user": "DB_USER"})
        return task.output

    assert env["run"](pipe, None, source) == {"Output": "done"}
    assert _survivors_after_grace(CANARY_USER, seconds=1.0) == []


# ------------------------------------------------------------------------- concurrent runs

_PEEK_SCRIPT = textwrap.dedent('''
    import sys
    from kfp import dsl, local
    from kfp_nbsecrets import attach
    from kfp_nbsecrets.local_run import run_local
    from kfp_nbsecrets.sources.memory import MemorySource

    index, count = int(sys.argv[1]), int(sys.argv[2])
    barrier, tmp, root = sys.argv[3:6]

    @dsl.component(base_image="python:3.11", install_kfp_package=False)
    def peek(index: int, count: int, barrier: str, tmp: str) -> str:
        import os
        import time

        def gather(step):
            open(os.path.join(barrier, f"{step}-{index}"), "w").close()
            deadline = time.time() + 90
            while time.time() < deadline and sum(n.startswith(step) for n in os.listdir(barrier)) < count:
                time.sleep(0.05)

        gather("ready")  # every run has its private dir now
        seen = set()
        for folder, _, files in os.walk(tmp):
            for name in files:
                try:
                    with open(os.path.join(folder, name), "rb") as handle:
                        data = handle.read()
                except OSError:
                    continue
                seen.update(i for i in range(count) if f"canary-run{i}-".encode() in data)
        with open("/secrets/own/token") as handle:
            own = handle.read().startswith(f"canary-run{index}-")
        gather("done")  # nobody removes its dir before everybody looked
        return f"seen={sorted(seen)} own={own}"

    @dsl.pipeline(name="peek")
    def pipe(secret: str) -> str:
        task = peek(index=index, count=count, barrier=barrier, tmp=tmp)
        attach.use_secret_as_volume(task, secret, "/secrets/own")
        attach.use_secret_as_env(task, secret, {"token": "TOKEN"})
        return task.output

    source = MemorySource({f"run-{index}": {"token": f"canary-run{index}-7d1e"}})
    outputs = run_local(pipe, {"secret": f"run-{index}"}, source=source,
                        runner=local.SubprocessRunner(use_venv=False), pipeline_root=root)
    print("RESULT", outputs["Output"])
''')


def test_concurrent_runs_see_only_their_own_secret_files(tmp_path):
    """Several processes run tasks at the same time with the same TMPDIR: none reads another's files."""
    count = 4
    tmp, barrier = tmp_path / "tmp", tmp_path / "barrier"
    tmp.mkdir()
    barrier.mkdir()
    script = tmp_path / "peek.py"
    script.write_text(_PEEK_SCRIPT)
    environ = {**os.environ, "TMPDIR": str(tmp)}
    runs = [subprocess.Popen([sys.executable, str(script), str(i), str(count), str(barrier), str(tmp),
                              str(tmp_path / f"root-{i}")], env=environ, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for i in range(count)]
    outputs = [run.communicate(timeout=110)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-2000:]
        assert "RESULT seen=[] own=True" in output, output[-2000:]
        assert "canary-run" not in output
    assert not [name for name in os.listdir(tmp) if name.startswith(sandbox.TEMP_PREFIX)]


def test_refused_concurrent_run_changes_nothing(env, source, tmp_path, monkeypatch):
    """A second run_local while one runs is refused before it touches kfp.local's global config."""
    from kfp.local import config

    markers, first_root, second_root = tmp_path / "markers", tmp_path / "first", tmp_path / "second"
    markers.mkdir()
    inits = []
    real_init = local.init
    monkeypatch.setattr(local, "init", lambda **kwargs: (inits.append(kwargs["pipeline_root"]),
                                                         real_init(**kwargs))[1])

    @dsl.pipeline(name="winner")
    def pipe() -> str:
        task = linger(marker_dir=str(markers), seconds=30.0)
        attach.use_secret_as_env(task, "db", {"user": "DB_USER"})
        return task.output

    runner = local.SubprocessRunner(use_venv=False)
    results = {}

    def first():
        results["first"] = run_local(pipe, source=source, runner=runner, pipeline_root=str(first_root))

    winner = threading.Thread(target=first)
    winner.start()
    try:
        _wait_for(markers / "started")
        before = config.LocalExecutionConfig.instance
        with pytest.raises(LocalRunError, match="in progress"):
            run_local(pipe, source=source, runner=runner, pipeline_root=str(second_root))
        assert config.LocalExecutionConfig.instance is before
    finally:
        (markers / "release").touch()
        winner.join(60)
    assert results["first"] == {"Output": "done"}
    assert inits == [str(first_root)]
    assert not second_root.exists()
    assert any(first_root.rglob("executor_output.json"))
    assert not [name for name in os.listdir(env["tmp"]) if name.startswith("kfp-workspace-")]


# ------------------------------------------------------------------------------ full TMPDIR

_FULL_SCRIPT = textwrap.dedent('''
    import os, sys
    from kfp import dsl, local
    from kfp_nbsecrets import attach
    from kfp_nbsecrets.local_run import run_local
    from kfp_nbsecrets.sources.memory import MemorySource

    tmp = os.environ["TMPDIR"]
    # kfp.local initialised while there is room (its workspace lives in TMPDIR), then TMPDIR is filled
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=sys.argv[1])
    with open(os.path.join(tmp, "fill"), "wb", buffering=0) as handle:
        for chunk in (4096, 1):
            try:
                while True:
                    handle.write(b"x" * chunk)
            except OSError:
                pass

    @dsl.component(base_image="python:3.11", install_kfp_package=False)
    def use(mount: str) -> str:
        return mount

    @dsl.pipeline(name="full")
    def pipe():
        task = use(mount="/secrets/db")
        attach.use_secret_as_volume(task, "db", "/secrets/db")

    source = MemorySource({"db": {"password": "canary-FULL-4c2d" * 64}})
    try:
        run_local(pipe, source=source)
    except BaseException as exc:
        print("RAISED", type(exc).__name__, str(exc).replace(chr(10), "<NL>"))
    print("LEFT", sorted(os.listdir(tmp)))
''')


def test_full_tmpdir_names_the_task_and_leaves_nothing(tmp_path):
    """A TMPDIR with no space left: a one-line LocalRunSecretError naming the task and the directory."""
    full = tmp_path / "full"
    full.mkdir()
    script = tmp_path / "full.py"
    script.write_text(_FULL_SCRIPT)
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("cannot create a mount namespace here to mount a small tmpfs")
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o size=256k tmpfs "$TMPDIR" && exec "$@"', "sh",
         sys.executable, str(script), str(tmp_path / "root")],
        env={**os.environ, "TMPDIR": str(full)}, capture_output=True, text=True, timeout=110, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-2000:]
    assert "canary-FULL" not in output
    raised = [line for line in done.stdout.splitlines() if line.startswith("RAISED")]
    assert raised and raised[0].startswith("RAISED LocalRunSecretError task 'use'"), output[-2000:]
    assert str(full) in raised[0] and "No space left on device" in raised[0] and "<NL>" not in raised[0]
    assert "LEFT ['fill']" in done.stdout, output[-2000:]


# --------------------------------------------------------------------- kfp.local not initialised


def test_without_local_init_runs_offline_in_the_kernel_environment(env, source, tmp_path, monkeypatch):
    """No kfp.local.init: a SubprocessRunner without venv (no pip download), config restored afterwards."""
    from kfp.local import config

    monkeypatch.setattr(config.LocalExecutionConfig, "instance", None)
    monkeypatch.chdir(tmp_path)

    @dsl.pipeline(name="no-init")
    def pipe() -> str:
        made = make_name(name="db")
        task = linger(marker_dir=str(tmp_path), seconds=0.0)
        attach.use_secret_as_env(task, made.output, {"user": "DB_USER"})
        return task.output

    assert run_local(pipe, source=source) == {"Output": "done"}
    assert config.LocalExecutionConfig.instance is None
    assert any((tmp_path / "local_outputs").rglob("executor_output.json"))


def test_a_failing_task_names_its_cause_without_values(env, source, capfd):
    @dsl.pipeline(name="fails")
    def pipe():
        task = fail_loudly(reason="no rows")
        attach.use_secret_as_env(task, "db", {"password": "DB_PASSWORD"})

    with pytest.raises(LocalRunError) as info:
        env["run"](pipe, None, source)
    message = str(info.value)
    assert isinstance(info.value, KfpNbSecretsError) and not isinstance(info.value, LocalRunSecretError)
    assert "\n" not in message and "\x1b" not in message
    assert "task 'fail-loudly'" in message and "ValueError: cannot go on: no rows" in message, message
    assert CANARY_PW not in message
    out, err = capfd.readouterr()
    _seen.extend((out, err))  # still checked for canaries by the env fixture
    assert "the password is" in out  # the task's own output is shown, with the value masked


def test_raise_on_error_false_logs_the_cause(env, source, caplog):
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=env["root"], raise_on_error=False)

    @dsl.pipeline(name="fails-quietly")
    def pipe():
        task = fail_loudly(reason="quietly")
        attach.use_secret_as_env(task, "db", {"password": "DB_PASSWORD"})

    assert run_local(pipe, source=source) == {}
    assert "task 'fail-loudly' failed (exit code 1): ValueError: cannot go on: quietly" in caplog.text


def test_a_runner_that_is_not_one_changes_nothing(env, source):
    from kfp.local import config

    before = config.LocalExecutionConfig.instance

    @dsl.pipeline(name="bad-runner")
    def pipe():
        make_name(name="x")

    with pytest.raises(ConfigurationError, match="runner must be a kfp.local.SubprocessRunner or Docker"):
        run_local(pipe, source=source, runner="docker")
    assert config.LocalExecutionConfig.instance is before
    assert not [name for name in os.listdir(env["tmp"]) if name.startswith("kfp-workspace-")]


def test_masks_cover_each_line_of_a_value_and_skip_short_values():
    assert processes.masks(["pw", "line-one\nline-two", "token-1"]) == (
        "line-one\nline-two", "line-one", "line-two", "token-1")
    assert processes.TaskExit("t", 2, ["", "  "]).cause == "no output, exit code 2"


def test_a_private_root_that_is_not_private_is_refused(env, source, capfd):
    root = sandbox.private_root()
    os.mkdir(root, 0o755)  # e.g. made by someone else: secret files must not go there
    try:

        @dsl.pipeline(name="open-root")
        def pipe():
            task = make_name(name="x")
            attach.use_secret_as_volume(task, "db", "/secrets/db")

        with pytest.raises(LocalRunSecretError) as info:
            env["run"](pipe, None, source)
        assert str(info.value) == (f"task 'make-name': cannot write its secret files to {root!r}: not a"
                                   f" directory private to this user (0700); set TMPDIR to another directory")
        assert os.listdir(root) == []
    finally:
        os.rmdir(root)


def test_magic_local_run_without_local_init_names_the_failing_task_and_cause(ip, env, source, tmp_path,
                                                                              monkeypatch):
    """``%kfp_secret run P --local`` with kfp.local never initialised: offline runner, one-line cause."""
    from IPython.core.error import UsageError
    from kfp.local import config
    from magic_shell import kfp_secret

    from kfp_nbsecrets import sources

    monkeypatch.setattr(config.LocalExecutionConfig, "instance", None)
    monkeypatch.chdir(tmp_path)

    @dsl.pipeline(name="fails-in-magic")
    def pipe():
        made = make_name(name="db")
        task = fail_loudly(reason="from the magic").after(made)
        attach.use_secret_as_env(task, made.output, {"password": "DB_PASSWORD"})

    ip.user_ns["fails"] = pipe
    sources.configure(source=source)
    try:
        with pytest.raises(UsageError) as info:
            kfp_secret(ip, "run fails --local")
    finally:
        sources.reset_configuration()
    assert str(info.value) == ("task 'fail-loudly' failed (exit code 1): ValueError: cannot go on: from the"
                               " magic")
    assert config.LocalExecutionConfig.instance is None
