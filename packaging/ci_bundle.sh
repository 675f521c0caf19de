#!/usr/bin/env bash
# CI: build the one-folder app (packaging/build.sh) and run the BUNDLED executable headless:
# `labelfix --version`, `labelfix demo --smoke` with a fresh data folder, `labelfix info` on the
# demo project it built, one background job (the desktop's import runs in a child process), the
# stand-ins for OpenCV, which the bundle leaves out, against OpenCV itself, and `labelfix
# predict` with a small ONNX detector (onnxruntime is bundled): the same predictions as the
# build Python's.
# Fails if any step fails or the bundle is over LABELFIX_BUNDLE_MAX_MB (default 250) MB.
#
# Run it after tools/test.sh, whose .venv has LabelFix and its dependencies; PYTHON overrides
# the interpreter. Needs no display (QT_QPA_PLATFORM=offscreen).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHON
MAX_MB="${LABELFIX_BUNDLE_MAX_MB:-250}"
APP=dist/labelfix/labelfix

step() { printf '\n== %s\n' "$*"; }
now_ms() { date +%s%3N; }

step "PyInstaller"
# PyInstaller needs objdump (binutils) and a shared libpython; Debian's own python3 is built
# static, so its libpython comes from the libpythonX.Y package.
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  need=()
  command -v objdump >/dev/null 2>&1 || need+=(binutils)
  pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  shared="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("Py_ENABLE_SHARED") or 0)')"
  if [ "$shared" = "0" ] && ! ldconfig -p | grep -q "libpython$pyver\.so"; then
    need+=("libpython$pyver")
  fi
  if [ "${#need[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  "$PYTHON" -m pip install -q "pyinstaller>=6.10,<7"
fi
"$PYTHON" -m PyInstaller --version

step "build"
bash packaging/build.sh

# A throwaway home, so the demo project is built fresh and nothing touches the real user's files.
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/home" "$TMP/data" "$TMP/config" "$TMP/cache" "$TMP/runtime"
chmod 700 "$TMP/runtime"
export HOME="$TMP/home" XDG_DATA_HOME="$TMP/data" XDG_CONFIG_HOME="$TMP/config"
export XDG_CACHE_HOME="$TMP/cache" XDG_RUNTIME_DIR="$TMP/runtime" QT_QPA_PLATFORM=offscreen
unset LABELFIX_DATA_DIR

step "labelfix --version (bundled)"
version="$("$APP" --version)"
echo "$version"
[[ "$version" == labelfix\ * ]] || { echo "ci_bundle: unexpected --version output" >&2; exit 1; }

step "labelfix demo --smoke (bundled, fresh data folder)"
start=$(now_ms)
timeout 300 "$APP" demo --smoke
echo "demo --smoke: exit 0 in $(($(now_ms) - start)) ms (builds the demo project, renders one frame)"
project="$(find "$TMP/data" -name demo.labelfix -print -quit)"
[ -n "$project" ] || { echo "ci_bundle: demo --smoke built no demo.labelfix" >&2; exit 1; }
start=$(now_ms)
timeout 120 "$APP" demo --smoke
echo "demo --smoke again (project exists): exit 0 in $(($(now_ms) - start)) ms"

step "labelfix info (bundled, headless CLI)"
timeout 120 "$APP" info "$project"

step "background job in a child process (bundled)"
timeout 300 "$APP" -c '
import sys
from pathlib import Path

from labelfix.desktop import jobs
from labelfix.desktop.demo import demo_source

src, out = demo_source(), Path(sys.argv[1])
jobs.in_subprocess(
    jobs.import_and_analyze, src / "labels.json", src / "images", src / "predictions.json", out
)
assert out.is_file(), out
print(f"child job built {out.name}")
' "$TMP/job.labelfix"

step "without OpenCV (bundled): Pillow decodes, core.contours traces, same results"
# The bundle leaves cv2 out. The same snippet runs in the bundle and in the build Python (which
# has OpenCV): decoded pixels and traced polygons must be identical.
probe='
import hashlib, json, sys
from labelfix.core import geometry, opencv
from labelfix.core.images import load_image
from labelfix.desktop.demo import demo_source
from pycocotools import mask as mask_utils

src = demo_source()
labels = json.loads((src / "labels.json").read_text())
image = labels["images"][0]
pixels, _ = load_image(src / "images" / image["file_name"])
h, w = image["height"], image["width"]
polygons = [a["segmentation"] for a in labels["annotations"] if isinstance(a["segmentation"], list)]
traced = [
    geometry.rle_to_polygon(mask_utils.merge(mask_utils.frPyObjects(p, h, w)), h, w)
    for p in polygons[:200]
]
print(json.dumps({
    "opencv": opencv.module() is not None,
    "pixels": hashlib.sha256(pixels.tobytes()).hexdigest(),
    "polygons": hashlib.sha256(json.dumps(traced).encode()).hexdigest(),
}))
'
bundled="$(timeout 120 "$APP" -c "$probe")"
reference="$("$PYTHON" -c "$probe")"
echo "bundle:    $bundled"
echo "reference: $reference"
[[ "$bundled" == *'"opencv": false'* ]] || { echo "ci_bundle: cv2 is in the bundle" >&2; exit 1; }
[[ "$reference" == *'"opencv": true'* ]] || { echo "ci_bundle: the build Python has no cv2" >&2; exit 1; }
[ "${bundled#*\"pixels\"}" = "${reference#*\"pixels\"}" ] \
  || { echo "ci_bundle: the bundle decodes or traces differently from OpenCV" >&2; exit 1; }

step "labelfix predict (bundled): an ONNX detector on the demo images, as the build Python runs it"
# bench/bench_predict.py writes the model with the build Python (the bundle has no `onnx`); both
# runs import the demo into a project of their own, predict with --out, and must agree exactly.
"$PYTHON" bench/bench_predict.py --write-model "$TMP/detector.onnx" --size 320 --coco-names
demo=resources/demo
for who in bundled reference; do
  if [ "$who" = bundled ]; then run=("$APP"); else run=("$PYTHON" -m labelfix); fi
  "${run[@]}" import --gt "$demo/labels.json" --images "$demo/images" -o "$TMP/$who.labelfix" -q
  start=$(now_ms)
  timeout 300 "${run[@]}" predict "$TMP/$who.labelfix" --model "$TMP/detector.onnx" \
    --name detector --out "$TMP/$who.json" --analyze
  echo "$who predict --analyze: exit 0 in $(($(now_ms) - start)) ms"
done
"$APP" info "$TMP/bundled.labelfix" | grep -q "predictions \* detector:" \
  || { echo "ci_bundle: the bundled predict added no prediction set" >&2; exit 1; }
cmp "$TMP/bundled.json" "$TMP/reference.json" \
  || { echo "ci_bundle: the bundle predicts differently from the build Python" >&2; exit 1; }
echo "bundled and reference predictions are identical ($(wc -c < "$TMP/bundled.json") bytes)"

step "bundle size"
du -sh dist/labelfix
echo "$(find dist/labelfix -type f | wc -l) files"
"$PYTHON" packaging/check_bundle.py dist/labelfix --max-mb "$MAX_MB"
