#!/usr/bin/env bash
# Installs everything, then runs every check on every entry of the compatibility matrix:
#   main          the newest releases in .venv (Python 3.11): ruff, renderer unit tests, pytest,
#                 real-browser tests, nbval of the notebooks;
#   scripts/matrix/ENTRY.txt, one venv each under .venv-matrix/ (see scripts/matrix.sh).
# Each entry's result is printed on its own line at the end; any failed entry fails the command.
# One entry alone: bash scripts/matrix.sh ENTRY. Extra arguments are passed to each pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# One private temp dir for the whole run (the tests that scan the temp dir for leaked values then see
# only this run's files, not the churn of other processes), removed at the end.
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/kfp-matrix-XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
results=()
failed=0
status=$TMPDIR/entry-status
start=$SECONDS
for entry in $(bash scripts/matrix.sh --list); do
    echo
    echo "=================== matrix entry: $entry"
    began=$SECONDS
    rc=0
    : >"$status"
    MATRIX_STATUS_FILE=$status bash scripts/matrix.sh "$entry" "$@" || rc=$?
    result=$(cat "$status")
    if [ "$rc" != 0 ]; then
        result=${result:-"failed (exit $rc)"}
        failed=1
    fi
    results+=("$(printf '%-14s %-40s %4ds' "$entry" "${result:-passed}" $((SECONDS - began)))")
done

echo
echo "=================== compatibility matrix (reproduce one: bash scripts/matrix.sh ENTRY)"
printf '%s\n' "${results[@]}"
echo "total: $((SECONDS - start))s"
exit "$failed"
