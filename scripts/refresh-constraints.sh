#!/usr/bin/env bash
# Re-resolves the pinned constraint files of the compatibility matrix, e.g. after a kfp release.
#
#   bash scripts/refresh-constraints.sh            # every entry, then .venv and the notebook outputs
#   bash scripts/refresh-constraints.sh ENTRY...   # only these (`main` is scripts/constraints.txt)
#
# An entry file scripts/matrix/ENTRY.txt keeps its header (the comment lines up to the first pin);
# its pins are replaced by `pip freeze` of a fresh venv made with the header's interpreter
# (`# python: X.Y`) from the project's test extras and the header's requirements (`# seed: ...`,
# e.g. `kfp==2.16.1` for the oldest supported release; empty for the newest releases).
# `main` pins the kfp packages of .venv to their newest release (scripts/constraints.txt).
# With every entry refreshed, .venv is updated and notebooks/build.py re-executes the example
# notebooks, so their committed outputs come from the newest releases. Review `git diff`, then run
# `bash scripts/test.sh`.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

mapfile -t all < <(bash scripts/matrix.sh --list)
entries=("$@")
[ ${#entries[@]} -gt 0 ] || entries=("${all[@]}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# resolve PYTHON SEED...: the frozen pins of a fresh venv with the test extras and the seed requirements
resolve() {
    local python=$1
    shift
    rm -rf "$work/venv"
    "$python" -m venv "$work/venv"
    "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    SKIP_JUPYTER_BUILDER=1 "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -e '.[test]' "$@"
    "$work/venv/bin/python" -m pip check >/dev/null
    "$work/venv/bin/python" -m pip freeze --exclude-editable --all | grep -v '^pip=='
}

for entry in "${entries[@]}"; do
    if [ "$entry" = main ]; then
        file=scripts/constraints.txt
        python=python3
        seed=()
    else
        file=scripts/matrix/$entry.txt
        [ -f "$file" ] || { echo "no such entry: $file" >&2; exit 2; }
        want=$(sed -n 's/^# python: *//p' "$file" | head -n 1)
        python=$(bash scripts/matrix.sh --python "$want")
        [ -n "$python" ] || { echo "$entry: no python$want, cannot refresh" >&2; exit 1; }
        read -r -a seed <<<"$(sed -n 's/^# seed: *//p' "$file" | head -n 1)"
    fi
    echo "refreshing $file (python $("$python" -V 2>&1 | cut -d' ' -f2), seed: ${seed[*]:-none})"
    pins=$(resolve "$python" "${seed[@]}")
    grep -q '^kfp==' <<<"$pins" || { echo "$entry: resolving failed, $file left as it was" >&2; exit 1; }
    [ "$entry" != main ] || pins=$(grep -E '^kfp(-kubernetes|-pipeline-spec|-server-api)?==' <<<"$pins")
    { sed '/^[^#]/,$d' "$file"; echo "$pins"; } >"$work/new"
    mv "$work/new" "$file"
done

if [ $# -eq 0 ]; then
    bash scripts/setup.sh
    .venv/bin/python notebooks/build.py
fi
git status --short -- scripts/constraints.txt scripts/matrix notebooks
