"""The private dirs of secret files, and the private mount namespace (bubblewrap) that shows them to
one SubprocessRunner task only.

Every private dir lives under one per-user root, ``$TMPDIR/kfp-nbsecrets-<uid>`` (0700), and every
sandbox mounts an empty tmpfs over that root: a task sees its own files at its mount paths and no
private dir at all, neither its own nor those of concurrent runs (which have the same uid). With the
DockerRunner the private dir is bind-mounted into the container instead
(:func:`docker_runner_with_mounts`).
"""

from __future__ import annotations

import contextlib
import copy
import errno
import os
import shutil
import stat
import subprocess
import tempfile
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


TEMP_PREFIX = "kfp-nbsecrets-"
_OTHER_TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")  # where runs with another TMPDIR keep theirs


def private_root(temp_dir: str | None = None) -> str:
    """The per-user parent of all private dirs in ``temp_dir`` (default: the current TMPDIR)."""
    return os.path.join(temp_dir or tempfile.gettempdir(), f"{TEMP_PREFIX}{os.getuid()}")


def make_private_dir() -> str:
    """A new private dir (0700) under :func:`private_root`; raises OSError naming the path."""
    root = private_root()
    for _ in range(5):  # a concurrent run may remove the root when it empties it
        with contextlib.suppress(FileExistsError):
            os.mkdir(root, 0o700)
        info = os.lstat(root)
        private = stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
        if not private or info.st_uid != os.getuid():
            raise OSError(errno.EPERM, "not a directory private to this user (0700)", root)
        with contextlib.suppress(FileNotFoundError):
            return tempfile.mkdtemp(prefix="task-", dir=root)
    raise OSError(errno.ENOENT, "removed again and again while in use", root)


def remove_private_dir(path: str) -> None:
    """Remove a private dir, and the per-user root once no run uses it."""
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):  # not empty: another run uses it
        os.rmdir(os.path.dirname(path))


def _hidden_roots() -> list[str]:
    roots = {os.path.realpath(private_root(directory)) for directory in (None, *_OTHER_TEMP_DIRS)}
    return sorted(root for root in roots if os.path.isdir(root))


def real_target(mount_path: str) -> str:
    return os.path.realpath(rules.normalize_mount_path(mount_path))


def bwrap_arguments(mounts: list[tuple[str, str]], cwd: str) -> list[str]:
    """bwrap options that show the host file system as it is, plus each (source dir, mount path).

    The new root is a tmpfs; every directory on the way to a mount path is a tmpfs directory
    whose entries are bind mounts of the host's, so a missing mount path is created in the
    sandbox only, never on the host, and everything else stays where the task expects it, except
    the private roots of this user, each covered by an empty tmpfs.
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
    for root in _hidden_roots():  # no private dir is visible inside, only the mounts below
        if root not in mirrored and root not in targets:
            args += ["--tmpfs", root]
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
