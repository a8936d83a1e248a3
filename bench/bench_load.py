"""`%load_ext kfp_nbsecrets` vs `import kfp`, each in fresh interpreters, same run (goal: ≤ 0.2×).

The load is timed inside a process that already runs an IPython shell, as in a kernel;
`import kfp` is timed in a fresh process. Prints medians of several runs and their ratio.
"""

import statistics
import subprocess
import sys

LOAD_EXT = """
import time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
shell.run_line_magic("load_ext", "kfp_nbsecrets")
elapsed = time.perf_counter() - start
import sys
assert "kfp" not in sys.modules, "load_ext imported kfp"
print(elapsed)
"""

IMPORT_KFP = """
import time
start = time.perf_counter()
import kfp, kfp.dsl
print(time.perf_counter() - start)
"""


def timed(code: str, runs: int) -> float:
    samples = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                    text=True).stdout) for _ in range(runs)]
    return statistics.median(samples)


def main(runs: int = 7) -> dict[str, float]:
    load, kfp = timed(LOAD_EXT, runs), timed(IMPORT_KFP, runs)
    ratio = load / kfp
    print(f"%load_ext kfp_nbsecrets: {load * 1000:.1f} ms   import kfp: {kfp * 1000:.1f} ms   "
          f"ratio {ratio:.3f}x (goal <= 0.2x)")
    return {"load_ext_ms": load * 1000, "import_kfp_ms": kfp * 1000, "ratio": ratio}


if __name__ == "__main__":
    main()
