"""The private mount namespace (bubblewrap) that shows secret files to a SubprocessRunner task only.

With the DockerRunner the private dir is bind-mounted into the container instead
(:func:`docker_runner_with_mounts`).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import threading
from typing import Any

from kfp_nbsecrets import rules

_BWRAP_INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap)"

_sandbox_lock = threading.Lock()
_sandbox_problem: list[str | None] = []  # cached probe result: [None] works, [text] why not


def sandbox_problem() -> str | None:
    """Why secret volumes cannot be mounted for SubprocessRunner tasks here (None: they can).

    Needs the ``bwrap`` program (Debian package ``bubblewrap``) and mount namespaces: as root
    they always work; as another user bwrap uses an unprivileged user namespace, which some
    hardened kernels or containers disable.
    """
    with _sandbox_lock:
        if not _sandbox_problem:
            _sandbox_problem.append(_probe_sandbox())
        return _sandbox_problem[0]


def _probe_sandbox() -> str | None:
    if os.name != "posix" or not os.path.isdir("/proc/self/ns"):
        return "secret volumes need Linux mount namespaces, which this system does not have"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return f"the 'bwrap' program is not installed; {_BWRAP_INSTALL_HINT}"
    try:
        done = subprocess.run([bwrap, "--dev-bind", "/", "/", "--", "true"], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"'bwrap' cannot be started ({type(exc).__name__})"
    if done.returncode != 0:
        why = (done.stderr or "").strip().splitlines()[-1:] or ["unknown error"]
        return (f"'bwrap' cannot create a private mount namespace here ({why[0]}); run as root or"
                f" enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)")
    return None


def real_target(mount_path: str) -> str:
    return os.path.realpath(rules.normalize_mount_path(mount_path))


def bwrap_arguments(mounts: list[tuple[str, str]], cwd: str) -> list[str]:
    """bwrap options that show the host file system as it is, plus each (source dir, mount path).

    The new root is a tmpfs; every directory on the way to a mount path is a tmpfs directory
    whose entries are bind mounts of the host's, so a missing mount path is created in the
    sandbox only, never on the host, and everything else stays where the task expects it.
    """
    targets = {real_target(path): source for source, path in mounts}
    mirrored = {"/"}
    for target in targets:
        parent = os.path.dirname(target)
        while True:
            if os.path.isdir(parent):
                mirrored.add(parent)
            if parent == "/":
                break
            parent = os.path.dirname(parent)
    args = ["--die-with-parent"]
    for directory in sorted(mirrored, key=lambda path: (path.count("/"), path)):
        if directory != "/":
            args += ["--dir", directory]
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as exc:
            raise ValueError(
                f"cannot list {directory!r} to build the mount namespace ({exc.strerror})") from None
        for entry in entries:
            if entry.path in mirrored or entry.path in targets:
                continue
            if entry.is_symlink():
                args += ["--symlink", os.readlink(entry.path), entry.path]
            else:
                args += ["--dev-bind", entry.path, entry.path]
    for target in sorted(targets, key=lambda path: (path.count("/"), path)):
        args += ["--ro-bind", targets[target], target]
    if os.path.isdir(cwd):
        args += ["--chdir", cwd]
    return args


def wrap_command(executor: Any, private_dir: str, options: list[str]) -> None:
    """Prefix the task's command with bwrap; its options come from a file in the private dir."""
    args_file = os.path.join(private_dir, "bwrap.args")
    fd = os.open(args_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"".join(os.fsencode(option) + b"\0" for option in options))
    original = list(executor.container.command)
    del executor.container.command[:]
    # sh opens the file on fd 3 and execs bwrap, which reads its options from that fd.
    executor.container.command.extend(
        ["sh", "-c", 'exec bwrap --args 3 -- "$@" 3<"$0"', args_file, *original])


def docker_runner_with_mounts(runner: Any, volumes: list[tuple[str, str]]) -> Any:
    """A copy of a DockerRunner that bind-mounts the private dirs read-only (docker-py ``mounts``)."""
    import docker  # present whenever a DockerRunner could be built

    runner = copy.copy(runner)
    runner.container_run_args = dict(runner.container_run_args)
    mounts = list(runner.container_run_args.get("mounts") or [])
    for source, path in volumes:
        mounts.append(docker.types.Mount(target=rules.normalize_mount_path(path), source=source,
                                         type="bind", read_only=True))
    runner.container_run_args["mounts"] = mounts
    return runner
