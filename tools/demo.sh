#!/usr/bin/env bash
# Set up a virtual environment with LabelFix and open the app on the bundled demo project.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/labelfix demo "$@"
