"""Running a model: images/s and the share of wall time spent outside ``session.run``.

Builds a detector of realistic size with onnx.helper (a 9-layer 3x3 convolution stack, about
3.4 GFLOPs at 640x640, with an Ultralytics-shaped head ``[1, 84, 8400]`` whose class scores
give a COCO-evaluation-like number of candidates above conf 0.001), and a segmentation variant
(``[1, 116, 8400]`` + ``[1, 32, 160, 160]`` prototypes), then runs LabelFix's runner over the
demo images (``resources/demo/images``, repeated) or generated ones.

    python bench/bench_predict.py [--images 60] [--generated 1280x960] [--seg] [--project]
    python bench/bench_predict.py --head hf-detr|hf-rt-detr|d-fine|rf-detr [--images 60]
    python bench/bench_predict.py --write-model M.onnx [--size 320] [--coco-names]

``--project`` also runs the model the way ``labelfix predict`` does (``project.predict``: a
project of the same images, each image's predictions staged in the project, the set published
at the end) and reports images/s including the writes, and the share outside ``session.run``.
``--head`` runs a DETR-family head on the same backbone instead (``predict_heads.py``), after
the Ultralytics model on the same images, for a side-by-side images/s.
``--write-model`` only writes the model (packaging/ci_bundle.sh runs it in the bundle).

Target (issue 13): pre/post-processing and I/O overhead < 15% of the total wall time; decoding
of the next images overlaps inference.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from predict_heads import HEADS, backbone, build_detr

ROOT = Path(__file__).resolve().parent.parent
HEAD_FROM = {4: 5, 8: 7, 16: 9}  # P3 / P4 / P5: index of the layer whose output feeds a head


def build_model(
    path: Path, *, seg: bool, size: int = 640, seed: int = 0, names: list[str] | None = None
) -> float:
    """Write the bench model; returns its GFLOPs (2 x multiply-adds) at `size`. Its 80 classes
    are named ``class0`` ... unless `names` are given."""
    rng = np.random.default_rng(seed)
    nodes, inits, feats, flops = backbone("images", size, rng)
    channels = 4 + 80 + (32 if seg else 0)
    parts = []
    for level, layer in enumerate(HEAD_FROM.values()):
        name, c, s = feats[layer]
        w = (rng.normal(size=(channels, c, 1, 1)) * np.sqrt(1 / c)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"hw{level}")]
        inits += [numpy_helper.from_array(np.array([1, channels, s * s], np.int64), f"hs{level}")]
        nodes.append(helper.make_node("Conv", [name, f"hw{level}"], [f"h{level}"]))
        nodes.append(helper.make_node("Reshape", [f"h{level}", f"hs{level}"], [f"p{level}"]))
        flops += 2 * s * s * channels * c
        parts.append(f"p{level}")
    nodes.append(helper.make_node("Concat", parts, ["raw"], axis=2))
    split = [4, 80] + ([32] if seg else [])
    inits.append(numpy_helper.from_array(np.array(split, np.int64), "split"))
    outs = ["box_raw", "cls_raw"] + (["coef"] if seg else [])
    nodes.append(helper.make_node("Split", ["raw", "split"], outs, axis=1))
    # boxes: sigmoid * (640, 640, 160, 160) pixels; classes: sigmoid(x - 8.5): 1-5k above 0.001
    scale = np.array([size, size, size / 4, size / 4], np.float32).reshape(1, 4, 1)
    inits += [
        numpy_helper.from_array(scale, "box_scale"),
        numpy_helper.from_array(np.array(8.5, np.float32), "cls_bias"),
    ]
    nodes += [
        helper.make_node("Sigmoid", ["box_raw"], ["box_sig"]),
        helper.make_node("Mul", ["box_sig", "box_scale"], ["boxes"]),
        helper.make_node("Sub", ["cls_raw", "cls_bias"], ["cls_shift"]),
        helper.make_node("Sigmoid", ["cls_shift"], ["scores"]),
        helper.make_node(
            "Concat", ["boxes", "scores"] + (["coef"] if seg else []), ["output0"], axis=1
        ),
    ]
    cells = sum((size // stride) ** 2 for stride in HEAD_FROM)
    outputs = [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, channels, cells])]
    if seg:
        name, c, s = feats[2]  # stride 4: 160 x 160 for 640
        w = (rng.normal(size=(32, c, 1, 1)) * np.sqrt(1 / c)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, "pw"))
        nodes.append(helper.make_node("Conv", [name, "pw"], ["output1"]))
        flops += 2 * s * s * 32 * c
        outputs.append(helper.make_tensor_value_info("output1", TensorProto.FLOAT, [1, 32, s, s]))
    graph = helper.make_graph(
        nodes,
        "bench",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    class_names = dict(enumerate(names)) if names else {i: f"class{i}" for i in range(80)}
    for key, value in {
        "author": "Ultralytics",
        "task": "segment" if seg else "detect",
        "names": str(class_names),
        "stride": "32",
        "imgsz": f"[{size}, {size}]",
    }.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)
    return flops / 1e9


def images(count: int, generated: str | None, folder: Path) -> list:
    """ImageRefs: the demo images repeated, or generated JPEGs of one size."""
    from PIL import Image

    from labelfix.core.predict import ImageRef

    if generated:
        w, h = (int(v) for v in generated.split("x"))
        rng = np.random.default_rng(1)
        files = []
        for k in range(min(count, 20)):
            path = folder / f"g{k}.jpg"
            base = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
            Image.fromarray(base).resize((w, h), Image.BILINEAR).save(path, quality=90)
            files.append(path)
    else:
        files = sorted((ROOT / "resources" / "demo" / "images").glob("*.jpg"))
    sizes = {}
    for f in files:
        with Image.open(f) as im:
            sizes[f] = im.size
    return [
        ImageRef(k + 1, files[k % len(files)], *sizes[files[k % len(files)]]) for k in range(count)
    ]


def stage_costs(model: Path, refs: list) -> dict[str, float]:
    """Median ms per image of each stage run alone: decode, prepare, session.run, decode outputs."""
    from labelfix.core.images import load_image
    from labelfix.core.predict import Settings, load_model

    loaded = load_model(model)
    name = loaded.info.input_name
    settings = Settings(conf=0.001, iou=0.7, max_dets=100, agnostic=False)
    times: dict[str, list[float]] = {
        "decode": [],
        "prepare": [],
        "session.run": [],
        "postprocess": [],
    }
    candidates = []
    for ref in refs[:10]:
        t0 = time.perf_counter()
        rgb, _ = load_image(ref.path)
        t1 = time.perf_counter()
        prepared = loaded.family.prepare(rgb)
        t2 = time.perf_counter()
        outputs = loaded.session.run(None, {name: prepared.tensor, **prepared.feeds})
        t3 = time.perf_counter()
        loaded.family.decode(outputs, prepared, settings)
        t4 = time.perf_counter()
        if loaded.info.family.startswith("ultralytics"):
            candidates.append(int((outputs[0][0, 4:84].max(0) > 0.001).sum()))
        for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            times[key].append(value * 1000)
    out = {k: statistics.median(v) for k, v in times.items()}
    out["candidates"] = statistics.median(candidates) if candidates else 0
    return out


def project_run(
    model: Path, refs: list, folder: Path, names: list[str] | None = None
) -> dict[str, float]:
    """Run the model the way ``labelfix predict`` does, on a project of the same images:
    images/s with the writes, the share outside session.run, and where the rest went."""
    import json

    from labelfix.core import project
    from labelfix.core.store import Store

    images_dir = folder / f"project-images-{model.parent.name}"
    images_dir.mkdir()
    records = []
    for ref in refs:
        name = f"{ref.id:06d}{Path(ref.path).suffix}"
        (images_dir / name).symlink_to(Path(ref.path).resolve())
        records.append({"id": ref.id, "file_name": name, "width": ref.width, "height": ref.height})
    labels = folder / "labels.json"
    names = names or [f"class{i}" for i in range(80)]
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(names)]
    labels.write_text(json.dumps({"images": records, "annotations": [], "categories": categories}))
    path = folder / f"{model.parent.name}.labelfix"
    project.import_project(path, labels, images_dir)
    spent = {"staging": 0.0, "publishing": 0.0}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - t0

        return wrapper

    with Store.open(path) as store:
        store.stage_predictions = timed("staging", store.stage_predictions)
        store.publish_prediction_run = timed("publishing", store.publish_prediction_run)
        report = project.predict(store, model, "bench")
    return {
        "images_per_s": report.predicted / report.seconds,
        "seconds": report.seconds,
        "in_model": report.seconds_in_model,
        "outside": 1 - report.seconds_in_model / report.seconds,
        "predictions": report.predictions,
        "loading": report.seconds_loading,
        **spent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--generated", help="WxH: generated JPEGs instead of the demo images")
    parser.add_argument("--seg", action="store_true", help="the segmentation variant (masks + RLE)")
    parser.add_argument(
        "--project", action="store_true", help="also the project-level run (labelfix predict)"
    )
    parser.add_argument("--head", choices=HEADS, help="a DETR-family head on the same backbone")
    parser.add_argument("--write-model", type=Path, help="only write the model to this file")
    parser.add_argument("--size", type=int, default=640, help="with --write-model: input size")
    parser.add_argument(
        "--coco-names", action="store_true", help="with --write-model: the COCO-80 class names"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.write_model:
        from labelfix.core.predict.classes import COCO80

        names = list(COCO80) if args.coco_names else None
        gflops = build_model(args.write_model, seg=args.seg, size=args.size, names=names)
        print(f"wrote {args.write_model}: {gflops:.2f} GFLOPs at {args.size}x{args.size}")
        return
    from labelfix.core.predict.classes import COCO80

    names = list(COCO80) if args.head else None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        refs = images(args.images, args.generated, folder)
        model = folder / "bench.onnx"
        runs = [("ultralytics", model, build_model(model, seg=args.seg, names=names))]
        if args.head:
            (folder / args.head).mkdir()
            runs.append((args.head, *build_detr(folder / args.head, args.head, list(COCO80))))
        source = f"generated {args.generated}" if args.generated else "demo images, repeated"
        for head, path, gflops in runs:
            kind = "segmentation" if args.seg and head == "ultralytics" else "detection"
            print(
                f"[{head}] model: {kind}, {gflops:.2f} GFLOPs at 640x640; {len(refs)} images ({source})"
            )
            report(path, refs, folder, names, args.project)


def report(model: Path, refs: list, folder: Path, names: list[str] | None, project: bool) -> None:
    """Run the model over the images (and as labelfix predict with `project`) and print the numbers."""
    from labelfix.core.predict import run_model

    costs = stage_costs(model, refs)
    count = 0

    def sink(image_id: int, records: list) -> None:
        nonlocal count
        count += len(records)

    cats = {i + 1: n for i, n in enumerate(names or [f"class{i}" for i in range(80)])}
    summary = run_model(model, refs, categories=cats, sink=sink)
    whole = project_run(model, refs, folder, names) if project else None
    outside = 1 - summary.seconds_in_model / summary.seconds
    print(
        "stage alone, median ms/image: "
        + ", ".join(f"{k} {v:.1f}" for k, v in costs.items() if k != "candidates")
        + (
            f" (candidates above conf 0.001: {costs['candidates']:.0f})"
            if costs["candidates"]
            else ""
        )
    )
    print(
        f"run: {summary.images / summary.seconds:.2f} images/s, {summary.predictions} predictions, "
        f"{summary.seconds:.1f} s wall, {summary.seconds_in_model:.1f} s in session.run"
    )
    print(f"share of wall time outside session.run: {outside:.1%} (target < 15%)")
    if whole is not None:
        print(
            f"labelfix predict (project.predict, writes included): {whole['images_per_s']:.2f} "
            f"images/s, {whole['predictions']} predictions, {whole['seconds']:.1f} s wall, "
            f"{whole['in_model']:.1f} s in session.run; opening the model {whole['loading']:.2f} s, "
            f"staging {whole['staging']:.2f} s, publishing the set {whole['publishing']:.2f} s"
        )
        print(
            f"share of wall time outside session.run, project level: {whole['outside']:.1%} "
            "(target < 15%)"
        )


if __name__ == "__main__":
    main()
