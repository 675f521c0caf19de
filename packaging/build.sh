#!/usr/bin/env bash
# Build the one-folder LabelFix app into dist/labelfix/ from a clean state, check its contents
# (packaging/check_bundle.py, no size limit here), and print its unpacked size and file count.
# PYTHON picks the interpreter (default: .venv/bin/python if the repository has one, else
# python3); it needs LabelFix's dependencies and PyInstaller.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

rm -rf build/pyinstaller build/labelfix-src build/stripped dist/labelfix
start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level "${PYINSTALLER_LOG_LEVEL:-WARN}" \
  --workpath build/pyinstaller --distpath dist packaging/labelfix.spec
end=$(date +%s)

echo "built dist/labelfix in $((end - start)) s"
echo "size: $(du -sh dist/labelfix | cut -f1) unpacked, $(find dist/labelfix -type f | wc -l) files"
"$PYTHON" packaging/check_bundle.py dist/labelfix --max-mb 0
