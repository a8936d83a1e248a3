"""Wall time of bounded KFP waits against a misbehaving loopback KFP API (tests/kfp_server.py).

Each figure is a ``RunHandle.wait(timeout)`` (or one submission) against a server that hangs,
trickles its answer one byte every 0.2 s, answers 503, refuses connections, or resets the connection
after creating the run; the goal is wall time <= timeout + 2 s whatever the server does.

Run: .venv/bin/python bench/bench_waits.py
"""

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
warnings.filterwarnings("ignore", category=FutureWarning)

from kfp_server import KfpServer  # noqa: E402
from kube_emulator import free_port  # noqa: E402
from pipelines import nested  # noqa: E402

from kfp_nbsecrets import submit  # noqa: E402
from kfp_nbsecrets.sources.memory import MemorySource  # noqa: E402

SECRETS = MemorySource({"literal-creds": {"password": "p"}, "a-one": {"x": "1"}, "b-two": {"x": "2"},
                        "db-creds": {"user": "u", "token": "t"}})
SLACK = 2.0


def wait_against(fault: str, timeout: float, kfp_timeout: float) -> float:
    server = KfpServer().start()
    server.script = [("PENDING", {}), ("RUNNING", {"consume": "RUNNING"})]
    try:
        handle = submit.submit(nested(), host=server.url, source=SECRETS, pod_events=None,
                               timeout=kfp_timeout)
        if fault == "503":
            server.fail(503, times=10_000, method="GET", path="/runs/")
        else:
            getattr(server, fault)(times=10_000, method="GET", path="/runs/")
        started = time.monotonic()
        try:
            handle.wait(timeout)
        except submit.SubmitError as error:  # BackendTimeout, or the server's error once reads give up
            return time.monotonic() - started, type(error).__name__
        return time.monotonic() - started, "returned"
    finally:
        server.stop()


def refused() -> float:
    started = time.monotonic()
    try:
        submit.submit(nested(), host=f"http://127.0.0.1:{free_port()}", source=SECRETS, pod_events=None)
    except submit.Unreachable:
        pass
    return time.monotonic() - started


def main() -> int:
    os.environ["HOME"] = tempfile.mkdtemp(prefix="bench-waits-")
    os.environ["KF_PIPELINES_SA_TOKEN_PATH"] = os.path.join(os.environ["HOME"], "no-token")
    os.environ.pop("KF_PIPELINES_ENDPOINT", None)
    worst = 0.0
    for fault in ("hang", "trickle", "503"):
        for timeout, kfp_timeout in ((3, 30), (3, 2), (10, 30)):
            wall, outcome = wait_against(fault, timeout, kfp_timeout)
            worst = max(worst, wall / (timeout + SLACK))
            print(f"wait(timeout={timeout}) against a {fault} server, kfp_timeout={kfp_timeout}: {wall:.2f} s"
                  f" ({outcome}); ratio {wall / (timeout + SLACK):.2f} of the goal (timeout + {SLACK:g} s)")
    wall = refused()
    print(f"submission to a refused host (default backoff): {wall:.3f} s, one attempt;"
          f" ratio {wall / SLACK:.3f} of the {SLACK:g} s goal")
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
