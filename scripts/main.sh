#!/usr/bin/env bash
# Installs everything, then runs the main job on embedded defaults (no cluster needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m kfp_nbsecrets.demo out
