#!/usr/bin/env bash
# One entry of the compatibility matrix: builds its venv and runs its test suites.
#
#   bash scripts/matrix.sh ENTRY [PYTEST_ARGS...]   # e.g. bash scripts/matrix.sh py310-oldest -x
#   bash scripts/matrix.sh --list                   # the entries, in the order scripts/test.sh runs them
#   bash scripts/matrix.sh --python 3.10            # the interpreter an entry of Python 3.10 would use
#
# `main` is the full run on the newest releases in .venv (made by scripts/setup.sh). Every other entry
# is described by one file, scripts/matrix/ENTRY.txt: a pip constraints file (every package pinned)
# whose header names the interpreter (`# python: 3.10`), the suites to run (`# suites: core nbval`) and
# the requirements it was resolved from (`# seed: ...`, used by scripts/refresh-constraints.sh).
# Its venv is .venv-matrix/ENTRY, rebuilt from scratch whenever that file or pyproject.toml changes.
# When the interpreter is missing the entry prints "skipped: no python3.X" and succeeds.
# With MATRIX_STATUS_FILE set, the entry's result (passed, failed (SUITES), skipped: ...) is written there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITES_ALL="lint renderer core browser nbval"

status() {
    if [ -n "${MATRIX_STATUS_FILE:-}" ]; then
        echo "$1" >"$MATRIX_STATUS_FILE"
    fi
}

entries() {
    echo main
    for file in scripts/matrix/*.txt; do
        basename "$file" .txt
    done
}

# header FILE KEY: the value of the `# KEY: value` line of a constraints file
header() {
    sed -n "s/^# $2: *//p" "$1" | head -n 1
}

# find_python X.Y: an interpreter of that minor version (PATH, pyenv, the pyenv versions dir), or nothing
find_python() {
    local want=$1 candidate root
    root=${PYENV_ROOT:-$HOME/.pyenv}
    local candidates=("$root"/versions/"$want".*/bin/python3 /root/.pyenv/versions/"$want".*/bin/python3)
    if command -v pyenv >/dev/null; then
        candidates+=("$(pyenv prefix "$want" 2>/dev/null | head -n 1)/bin/python3")
    fi
    candidates+=("$(command -v "python$want" || true)" "$(command -v python3 || true)")
    for candidate in "${candidates[@]}"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ] \
            && "$candidate" -c 'import venv, ensurepip' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
}

# pytest_run LABEL ARGS...: pytest, where "no tests collected" (exit 5) is a failure that says so
pytest_run() {
    local label=$1 rc=0
    shift
    "$VENV/bin/python" -m pytest "$@" || rc=$?
    if [ "$rc" = 5 ]; then
        echo "$ENTRY/$label: FAILED: pytest collected no tests (exit 5)" >&2
    fi
    return "$rc"
}

run_suite() {
    case "$1" in
        lint) "$VENV/bin/ruff" check . ;;
        renderer) (cd labextension && npm ci --no-audit --no-fund --loglevel=error && npm test) ;;
        # The browser tests keep an event loop open in their process, so they run in a pytest of their own.
        core) pytest_run core -rs --ignore=tests/browser "${PYTEST_ARGS[@]}" ;;
        # In the matrix venvs JupyterLab loads the extension as installed (hatch shared-data).
        browser) KFP_NBSECRETS_INSTALLED_EXTENSION=$([ "$ENTRY" = main ] && echo 0 || echo 1) \
                     pytest_run browser -rs tests/browser "${PYTEST_ARGS[@]}" ;;
        # The example notebooks against their committed outputs (notebook 4 must use its own loopback
        # servers); notebooks/conftest.py sanitizes what varies between kfp releases.
        nbval) (unset KF_PIPELINES_ENDPOINT; pytest_run nbval -rs --nbval --nbval-current-env \
                    --nbval-sanitize-with notebooks/sanitize.cfg notebooks/ -p no:cacheprovider) ;;
        *) echo "unknown suite '$1' (known: $SUITES_ALL)" >&2; return 2 ;;
    esac
}

# build_venv PYTHON: .venv-matrix/ENTRY from the entry's constraints file, rebuilt when its inputs change
build_venv() {
    local python=$1 stamp pip=(-m pip install --quiet --disable-pip-version-check)
    stamp=$(cat "$CONSTRAINTS" pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.matrix-stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$VENV"
        "$python" -m venv "$VENV" || return 1
        "$VENV/bin/python" "${pip[@]}" --upgrade pip || return 1
    fi
    # SKIP_JUPYTER_BUILDER: the committed build of the JupyterLab extension, installed as hatch shared-data.
    SKIP_JUPYTER_BUILDER=1 "$VENV/bin/python" "${pip[@]}" -c "$CONSTRAINTS" -e '.[test]' || return 1
    "$VENV/bin/python" -m pip check || return 1
    echo "$stamp" >"$VENV/.matrix-stamp"
}

case "${1:-}" in
    --list) entries; exit 0 ;;
    --python) find_python "$2"; exit 0 ;;
esac
if [ $# -lt 1 ] || [[ "$1" == -* ]]; then
    echo "usage: bash scripts/matrix.sh ENTRY [PYTEST_ARGS...]   (entries: $(entries | xargs))" >&2
    exit 2
fi
ENTRY=$1
shift
PYTEST_ARGS=("$@")

if [ "$ENTRY" = main ]; then
    VENV=.venv
    suites=$SUITES_ALL
    bash scripts/setup.sh
else
    CONSTRAINTS=scripts/matrix/$ENTRY.txt
    if [ ! -f "$CONSTRAINTS" ]; then
        echo "unknown matrix entry '$ENTRY' (entries: $(entries | xargs))" >&2
        exit 2
    fi
    VENV=.venv-matrix/$ENTRY
    want=$(header "$CONSTRAINTS" python)
    suites=$(header "$CONSTRAINTS" suites)
    python=$(find_python "$want")
    if [ -z "$python" ]; then
        echo "$ENTRY: skipped: no python$want (install it, e.g. pyenv install $want)"
        status "skipped: no python$want"
        exit 0
    fi
    echo "$ENTRY: building $VENV with $python from $CONSTRAINTS"
    if ! build_venv "$python"; then
        echo "$ENTRY: FAILED: could not build $VENV from $CONSTRAINTS"
        status "failed (venv)"
        exit 1
    fi
fi

"$VENV/bin/python" - <<'EOF'
import importlib.metadata as md
import platform
def version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "absent"
names = ["kfp", "kfp-kubernetes", "ipython", "ipywidgets", "jupyterlab", "notebook", "kmock"]
print(f"Python {platform.python_version()}: " + ", ".join(f"{n} {version(n)}" for n in names))
if version("kmock") == "absent":
    print("note: kmock (the Kubernetes emulator) needs Python >= 3.11: the tests and notebooks that use it "
          "are skipped here (see the SKIPPED lines)")
EOF

failed=()
for suite in $suites; do
    echo "== $ENTRY: $suite"
    if ! run_suite "$suite"; then
        failed+=("$suite")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "$ENTRY: FAILED (${failed[*]}); reproduce with: bash scripts/matrix.sh $ENTRY"
    status "failed (${failed[*]})"
    exit 1
fi
status passed
