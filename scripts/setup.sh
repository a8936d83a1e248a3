#!/usr/bin/env bash
# Creates .venv (if missing) and installs kfp-nbsecrets with its test extras into it.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: bubblewrap mounts secret files into local runs; chromium runs the browser tests.
# Installed when missing and we may (root with apt); otherwise only those two things are unavailable.
missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "note: install ${missing[*]} (Debian) for everything to work" >&2
    fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# SKIP_JUPYTER_BUILDER: use the committed build of the JupyterLab extension instead of rebuilding it.
# constraints.txt: the newest kfp release tested (scripts/refresh-constraints.sh updates it).
SKIP_JUPYTER_BUILDER=1 .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    -c scripts/constraints.txt -e '.[test]'
