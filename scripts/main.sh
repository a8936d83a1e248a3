#!/usr/bin/env bash
# Installs everything, then runs the main job on embedded defaults (no cluster needed):
#   1. executes the quickstart notebook headless (a private secret store, the same pipeline run
#      locally with two different secrets) and writes the executed copy and an HTML export to out/;
#   2. starts JupyterLab on notebooks/ (skipped when KFP_NBSECRETS_NO_LAB=1 or CI=true).
# Extra arguments are passed to `jupyter lab` (e.g. --port 8899 --no-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JUPYTER=.venv/bin/jupyter
out=out/notebooks
mkdir -p "$out"

# The notebook makes its own temporary store; run it from notebooks/ as a user would.
"$JUPYTER" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
    --output-dir "$out" --output 01-quickstart.executed notebooks/01-quickstart.ipynb \
    --log-level WARN
"$JUPYTER" nbconvert --to html --output-dir "$out" --output 01-quickstart \
    "$out/01-quickstart.executed.ipynb" --log-level WARN

echo
echo "Quickstart executed headless:"
echo "  notebook: $(pwd)/$out/01-quickstart.executed.ipynb"
echo "  HTML:     $(pwd)/$out/01-quickstart.html"
# What the runs reported (fingerprints of the secrets each run received, never the values):
.venv/bin/python - "$out/01-quickstart.executed.ipynb" <<'EOF'
import sys

import nbformat

notebook = nbformat.read(sys.argv[1], as_version=4)
for cell in notebook.cells:
    if cell.cell_type == "code" and cell.source.startswith('print(outputs_a["Output"])'):
        for output in cell.outputs:
            for line in output.get("text", "").splitlines():
                print(f"  run result: {line}")
EOF

if [ "${KFP_NBSECRETS_NO_LAB:-0}" = 1 ] || [ "${CI:-}" = true ]; then
    echo
    echo "Not starting JupyterLab (KFP_NBSECRETS_NO_LAB=1 or CI=true)."
    echo "Start it yourself with: .venv/bin/jupyter lab notebooks/"
    exit 0
fi

echo
echo "Starting JupyterLab on notebooks/ (open the URL printed below)."
echo "Stop it with Ctrl-C here (answer 'y'), or from another terminal: kill $$"
lab_args=(--notebook-dir notebooks)
if [ "$(id -u)" = 0 ]; then
    lab_args+=(--allow-root)
fi
exec "$JUPYTER" lab "${lab_args[@]}" "$@"
