#!/usr/bin/env bash
# Set up a virtual environment with LabelFix and open the app on the bundled demo project.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_venv.sh
exec .venv/bin/labelfix demo "$@"
