"""The task processes of a local run: each in its own process group, none outlives its task or the run.

``kfp.local``'s SubprocessRunner starts a task with ``subprocess_task_handler.run_local_subprocess``
(looked up at call time): a ``Popen`` in the kernel's own process group whose output it prints line
by line, and which nothing kills when the run is interrupted. :class:`TaskProcesses` replaces that
function for the run with the same ``Popen`` and output, but

* in a new session, so the task and everything it starts form one process group;
* the group is killed (SIGKILL) as soon as the task's main process exits (leftover children),
  when the run is interrupted (SIGINT: the Jupyter interrupt button) and when the run ends in any
  other way; after an interrupt no further task starts;
* values the task received are masked (``***``) in the output it prints, and the last lines are
  kept, so that a failure can name its cause (:attr:`TaskProcesses.exits`).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import signal
import subprocess
import threading
from collections.abc import Iterable, Iterator
from typing import Any

TAIL_LINES = 20
MIN_MASKED_LENGTH = 4  # shorter values are not masked: masking them would garble the whole output
MASK = "***"


@dataclasses.dataclass
class TaskExit:
    """A task process that ended with a non-zero exit code (and was not retried with success), with its
    last lines of output (masked)."""

    task: str
    returncode: int
    tail: list[str]

    @property
    def cause(self) -> str:
        """The last line the task printed (for Python tasks: the exception), or why there is none."""
        lines = [line.strip() for line in self.tail if line.strip()]
        return lines[-1] if lines else f"no output, exit code {self.returncode}"


def masks(values: Iterable[str]) -> tuple[str, ...]:
    """The texts to mask for ``values``: each value and each line of a multi-line value, longest first."""
    found = set()
    for value in values:
        found.update(text for text in (value, *value.splitlines()) if len(text.strip()) >= MIN_MASKED_LENGTH)
    return tuple(sorted(found, key=lambda text: (-len(text), text)))


def _masked(line: str, texts: tuple[str, ...]) -> str:
    for text in texts:
        line = line.replace(text, MASK)
    return line


class _Current(threading.local):
    """The task the current thread runs (kfp.local starts a task's process in the task's thread)."""

    task: str = "?"
    masks: tuple[str, ...] = ()


class TaskProcesses:
    """The process groups of one local run (see the module doc)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # re-entered by the SIGINT handler in the main thread
        self._groups: dict[int, str] = {}  # pgid (= pid of the task's process, not yet reaped) -> task
        self._current = _Current()
        self.interrupted = False
        self.exits: list[TaskExit] = []

    @contextlib.contextmanager
    def task(self, name: str, values: Iterable[str] = ()) -> Iterator[None]:
        """While active, a process started by this thread belongs to task ``name``; ``values`` are masked."""
        self._current.task, self._current.masks = name, masks(values)
        try:
            yield
        finally:
            self._current.task, self._current.masks = "?", ()

    def run_local_subprocess(self, full_command: list[str], env_vars: dict[str, str] | None = None) -> int:
        """Drop-in for kfp.local's function of that name: runs one task, returns its exit code."""
        task, texts = self._current.task, self._current.masks
        if self.interrupted:  # e.g. a venv was still being built when the interrupt came
            return -signal.SIGKILL
        env = {**os.environ, **env_vars} if env_vars else None  # as kfp.local does
        process = subprocess.Popen(full_command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   bufsize=1, env=env, start_new_session=True)
        with self._lock:
            self._groups[process.pid] = task
            if self.interrupted:  # interrupted while it was being started
                _kill_group(process.pid)
        watcher = threading.Thread(target=self._kill_group_when_leader_exits, args=(process.pid,),
                                   name=f"kfp-nbsecrets-{task}", daemon=True)
        watcher.start()
        tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        try:
            for line in iter(process.stdout.readline, ""):
                line = _masked(line, texts)
                tail.append(line)
                print(line, end="")
            print("\n")  # as kfp.local does, to end the task's logs
        finally:
            with self._lock:
                _kill_group(process.pid)
                del self._groups[process.pid]
            watcher.join()
            process.stdout.close()  # type: ignore[union-attr]
            returncode = process.wait()
        with self._lock:
            if returncode == 0:  # a retry that succeeded: its earlier attempts no longer matter
                self.exits = [exit for exit in self.exits if exit.task != task]
            elif not self.interrupted:
                self.exits.append(TaskExit(task, returncode, list(tail)))
        return returncode

    def _kill_group_when_leader_exits(self, pid: int) -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # waits without reaping: the pgid stays ours
        with self._lock:
            if pid in self._groups:
                _kill_group(pid)

    def interrupt(self) -> None:
        """Kill every running task's process group; no further task starts."""
        with self._lock:
            self.interrupted = True
            for pid in self._groups:
                _kill_group(pid)

    @contextlib.contextmanager
    def patched(self) -> Iterator[TaskProcesses]:
        """kfp.local starts task processes through this object; SIGINT kills them; all die at the end."""
        from kfp.local import subprocess_task_handler

        original = subprocess_task_handler.run_local_subprocess
        subprocess_task_handler.run_local_subprocess = self.run_local_subprocess
        try:
            with self._sigint_kills_tasks():
                yield self
        finally:
            subprocess_task_handler.run_local_subprocess = original
            self.interrupt()

    @contextlib.contextmanager
    def _sigint_kills_tasks(self) -> Iterator[None]:
        """SIGINT kills the tasks first, then does what it did before (KeyboardInterrupt).

        Needed because kfp.local's control-flow orchestrator waits for its worker threads when the
        interrupt reaches the main thread: without the kill it would wait for the task to end.
        """
        previous: Any = signal.getsignal(signal.SIGINT)
        if threading.current_thread() is not threading.main_thread() or not callable(previous):
            yield  # signals only reach the main thread; an ignored or default SIGINT stays as it is
            return

        def on_sigint(signum: int, frame: Any) -> Any:
            self.interrupt()
            return previous(signum, frame)

        signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
