#!/usr/bin/env bash
# The Quick start's set-up, shared by tools/demo.sh and tools/test.sh: a .venv with LabelFix
# installed in editable mode, with the extras asked for ("test"). The first run creates and
# fills it; a later run installs again only when pyproject.toml changed (the dependencies) or
# those extras were not installed yet, so a second `bash tools/demo.sh` opens the app in
# seconds instead of re-creating the venv and re-running pip (~30 s).
# Usage, from the repository root: bash tools/setup_venv.sh [EXTRAS]
set -euo pipefail
extras="${1:-}"
stamp=.venv/.labelfix-setup  # line 1: pyproject.toml's hash; then one "extras=X" a line
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
deps=$(.venv/bin/python -I -c \
  'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')
if [ -x .venv/bin/labelfix ] && [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$deps" ] \
  && grep -qxF "extras=$extras" "$stamp"; then
  exit 0
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install -q -e "$spec"
if [ ! -f "$stamp" ] || [ "$(head -n 1 "$stamp")" != "$deps" ]; then
  printf '%s\nextras=\n' "$deps" > "$stamp"
fi
grep -qxF "extras=$extras" "$stamp" || echo "extras=$extras" >> "$stamp"
