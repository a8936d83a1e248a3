#!/usr/bin/env bash
# Installs everything, then runs every check: the linter and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
(cd labextension && npm ci --no-audit --no-fund --loglevel=error && npm test)
# The browser tests keep an event loop open in their process, so they run in a pytest of their own.
.venv/bin/python -m pytest --ignore=tests/browser "$@"
.venv/bin/python -m pytest tests/browser "$@"
# The example notebooks against their committed outputs (notebook 4 must use its own loopback servers).
env -u KF_PIPELINES_ENDPOINT .venv/bin/python -m pytest --nbval --nbval-current-env \
    --nbval-sanitize-with notebooks/sanitize.cfg notebooks/ -p no:cacheprovider
