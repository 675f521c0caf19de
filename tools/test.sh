#!/usr/bin/env bash
# Set up a virtual environment with LabelFix and its test extras, then run ruff and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_venv.sh test
.venv/bin/ruff check .
# core/ must never import Qt: prove it in a fresh interpreter
.venv/bin/python tools/check_core_is_qt_free.py
# the layers (import-linter contracts in pyproject.toml)
.venv/bin/python tools/lint_imports.py
.venv/bin/python -m pytest -q "$@"
