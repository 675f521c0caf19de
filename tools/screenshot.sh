#!/usr/bin/env bash
# Render docs/screenshot.png: build the demo project (if needed) and screenshot the review
# window under a real X server (xvfb-run), with the first suspect selected (GRID=1: the triage
# grid instead of the canvas, for docs/grid.png).
# Usage: [GRID=1] tools/screenshot.sh [OUT.png] [ROW]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshot.png}"
row="${2:-0}"
export LABELFIX_DATA_DIR="${LABELFIX_DATA_DIR:-$(mktemp -d)}"   # a fresh demo project, not the user's
project=$(python3 -c 'from labelfix.desktop.demo import ensure_demo_project; print(ensure_demo_project())')
unset QT_QPA_PLATFORM
# 1632x918: a first start on a 1920x1080 screen (85% of it)
exec xvfb-run -a -s "-screen 0 1920x1080x24" labelfix open "$project" --screenshot "$out" --select "$row" --size 1632x918 ${GRID:+--grid}
