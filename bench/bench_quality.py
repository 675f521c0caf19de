"""Quality benchmark of the suspect finder: inject known label errors, measure how well each
method ranks them, against cleanlab's object-detection scores and plain baselines.

Setups (``bench/quality_data.py``): ``centernet`` (coco_real81: 81 real COCO images, 798
labels, + the real CenterNet predictions; the only detector LabelFix's scoring may be tuned on),
``centernet-perturbed`` (its scores rescaled per class by increasing functions: another score
scale), ``centernet-blurred`` (its scores blurred by logit noise: a weaker detector, the second
tuning setup), ``nanodet`` (a second real detector, not tuned on, but its results seen since
score version 4; ``bench/data/README.md``), ``synthetic`` (43 images + cocoapi's fake
results: random scores), the held-out ``yolov8s`` and ``ssdlite``, and several real detectors'
sets analysed together (``centernet+nanodet``, ``yolov8s+ssdlite``, ``nanodet+ssdlite``, all
four; any ``A+B``): the same injected labels, the sets imported into one project and analysed
by the project service as ``labelfix analyze --predictions A,B`` does (LabelFix only: the
baselines and earlier scorings take one set). IoU on boxes. Per seed, a seeded RNG injects into the labels:

- missing_label: 5% of the non-crowd labels dropped; the hit is a missing-label suspect whose
  prediction box has IoU >= 0.5 with the dropped box;
- wrong_class: 5% get another class (half the time one of the same supercategory, else any);
  the hit is a wrong-class suspect on that label;
- inaccurate_label: 5% scaled and shifted (polygon and box together) until the box IoU with the
  original lies in [0.3, 0.6]; the hit is an inaccurate-label suspect on that label;
- duplicate_label: 2% copied with a small jitter (box IoU with the original >= 0.9); the hit is a
  duplicate-label suspect naming the copy.

The four sets are disjoint. Per kind and method: P@k (k = number injected), P@50 / P@100 (in the
first 50 / 100 of the ranking), recall (injected errors the method lists at all) and AP of its
ranking (sum of the precision at each hit / number injected). A second suspect pointing at an
already-found error counts as a miss (it costs a review). "All kinds": LabelFix's suspects of
every kind (spurious_label too) in one ranking by score against all injected errors: what a
reviewer sees first.

Methods: LabelFix (``labelfix.core.analyze.analyze`` on an imported project, like the CLI) with
its defaults (calibrated probabilities, score version 11), and its earlier scorings: calibrated
with the version 2 and the version 1 formulas, and raw confidences with version 1
(``calibrate=False``); cleanlab
2.x object-detection per-box subtype scores (overlooked -> missing, swap -> wrong class, badloc
-> inaccurate) at its defaults and with its confidence thresholds tuned on the tuning seeds of
each setup; the seed recipe (unmatched predictions ranked by confidence) for missing labels;
same-class label pairs ranked by box IoU for duplicates. Seeds 0-4 tune (LabelFix's scoring was
chosen on those of centernet, centernet-blurred and synthetic only); the tables report seeds 5-9.

History (LabelFix, centernet, seeds 5-9, AP missing / wrong class / inaccurate / duplicate):
before the bench-driven rules 0.205 / 0.486 / 0.283 / 1.000; raw confidences with the
matched-but-loose rule 0.262 / 0.584 / 0.323 / 1.000; calibrated probabilities, v1 scores
0.198 / 0.528 / 0.267 / 1.000; v2 scores 0.204 / 0.576 / 0.289 / 1.000 (all kinds: P@50 0.812,
P@100 0.554, AP 0.438); logistic class curves and v3 scores 0.209 / 0.609 / 0.300 / 1.000
(all kinds 0.856 / 0.572 / 0.463); wrong_class and inaccurate_label taking predictions down to
a tenth of min_score, and v4 scores (core/label_fit.py) 0.209 / 0.654 / 0.327 / 1.000 (all
kinds 0.860 / 0.586 / 0.486); v5 scores (core/containment.py: a missing_label inside or around
a same-class label at half score) 0.225 / 0.654 / 0.327 / 1.000 (all kinds 0.860 / 0.588 /
0.487); v6 scores (core/class_context.py: missing_label by its prediction's same-class context,
wrong_class by its label's, both by odds fitted on the analysis's matches) 0.232 / 0.702 /
0.327 / 1.000 (all kinds 0.872 / 0.618 / 0.492). v5 -> v6 on the other setups, seeds 5-9
(missing / wrong class / inaccurate, all kinds P@50 / P@100 / AP): NanoDet 0.116 / 0.351 /
0.204, 0.720 / 0.476 / 0.347 -> 0.119 / 0.419 / 0.204, 0.756 / 0.488 / 0.361; blurred 0.104 /
0.582 / 0.284, 0.788 / 0.560 / 0.434 -> 0.111 / 0.665 / 0.284, 0.836 / 0.566 / 0.444;
synthetic 0.696 / 0.512 / 0.679, 0.604 / 0.478 / 0.577 -> 0.692 / 0.678 / 0.679, 0.652 / 0.478
/ 0.634. The injected class changes pick a random class, mostly one with no other label on its
image: the wrong_class gain is larger here than on real errors. Top 20 on the clean labels
(judged in the pixels): on CenterNet five wrong_class suspects leave (one may be an error, a
tumbler labelled wine glass; an occluded chair, a goat labelled sheep, a table corner, a bowl
too blurred to tell) and five inaccurate_label ones come in (two may be errors: a sink box over
the whole counter, a person box cutting off half the figure); on NanoDet six wrong_class
suspects on right labels leave (airplane, two motorcycles, backpack, car, person) and one
possible error comes in (a toilet box without its tank), beside three hallucinated
missing_labels (a cup on a shirt, a refrigerator on a cabinet, a toilet on a bucket). v7 (a
crowd region explains only the missing labels of its own class, as COCO ignores a prediction in
it only for that class: core/errors.py) 0.239 / 0.702 / 0.327 / 1.000 (all kinds 0.876 /
0.620 / 0.494); v6 -> v7 missing (all kinds AP) NanoDet 0.119 -> 0.124 (0.361 -> 0.362),
blurred 0.111 -> 0.112 (0.444 -> 0.445), synthetic 0.692 -> 0.690 (0.634 -> 0.636); seeds 0-4
CenterNet 0.214 -> 0.238, NanoDet 0.136 -> 0.147, blurred 0.106 -> 0.108, synthetic 0.571 ->
0.614. It finds the dropped labels in other classes' crowd regions (a person before a shelf
labelled as a crowd of books; 11 of CenterNet's 390 dropped labels over seeds 0-9): paired over
the ten seeds +0.016 / +0.008 / +0.001 / +0.020, from the seeds that have one (up to +0.08);
the others lose up to 0.008 to the ~30 new suspects (stadium seats, people on posters, a pram
as bicycle: none in the first 20 on the clean labels, first at all-kinds rank 162 / 240).
Also v7 (core/class_context.py, core/part_context.py, core/label_fit.py: a wrong_class's and an
inaccurate_label's own probability term by the fitted odds of its prediction's same-class
context and of a box on a part of a same-class label; an inaccurate_label's label fit by an
unmatched prediction of any class too): 0.239 / 0.703 / 0.351 / 1.000 (all kinds 0.900 / 0.618 /
0.504); elsewhere, missing / wrong class / inaccurate, all kinds P@50 / P@100 / AP: NanoDet
0.124 / 0.432 / 0.209, 0.768 / 0.492 / 0.368; blurred 0.112 / 0.665 / 0.304, 0.856 / 0.566 /
0.452; synthetic 0.690 / 0.719 / 0.702, 0.648 / 0.482 / 0.651. Top 20 on the clean labels
(judged in the pixels, against v6; the scores there differ in the third decimal): on CenterNet
a right tennis racket leaves and a real error comes in (a knife box over a glass and half a
plate); on NanoDet five leave: wrong_class on right labels (an iMac labelled tv, predicted sink;
a cow figurine, predicted sheep), a right bench and two possible errors (the toilet box without
its tank; a couch box around one seated person, which a person and a chair box fit), and five
come in: a hallucinated missing_label (a toilet on a bucket), right labels (a bowl whose
predicted box takes in its plate, a dining table strip under a pizza, an under-counter fridge
predicted sink) and a possible error (a vessel washbasin labelled bowl, predicted sink).
v8 (core/edge_fit.py: an inaccurate_label's score x 2r/(1+r), r the contrast of its label's
polygon moved onto the prediction's box over the polygon's own; the projects get the image
folder): 0.239 / 0.703 / 0.442 / 1.000 (all kinds 0.932 / 0.656 / 0.535); NanoDet inaccurate
0.307 (all kinds 0.820 / 0.512 / 0.390), blurred 0.380 (0.884 / 0.604 / 0.478), synthetic
0.728 (0.656 / 0.482 / 0.663); paired over seeds 0-9 in bench/quality_offline.py. v9
(core/outline_search.py: a polygon label no true positive matches and no inaccurate_label names
is one when its outline sits on no edge, most coarse moves of its polygon beat it and the best
takes >= 0.6 of the two contrasts, score r/(1+r) - 1/2, fix the moved polygon when sure):
0.239 / 0.703 / 0.454 / 1.000 (all kinds 0.932 / 0.656 / 0.541); NanoDet inaccurate 0.336
(0.820 / 0.512 / 0.404), blurred 0.393 (0.884 / 0.604 / 0.484), synthetic 0.759 (0.656 / 0.492
/ 0.671); inaccurate recall 0.68 / 0.47 -> 0.74 / 0.62 (CenterNet / NanoDet). Ungated (not
landed): 0.490 / 0.393 / 0.428 / 0.825, but 84 of the demo's 426 polygon labels listed.
v10 (core/scoring.py: a spurious_label of a class the set never predicts scores 0, and every
spurious_label is weighed by the share of the set's labels its true positives matched): no
kind's own AP moves (spurious labels are never injected); all kinds, paired over seeds 0-9,
+0.0003 CenterNet (perturbed the same) / +0.0003 blurred / +0.0010 NanoDet / +0.0038
synthetic, up on every seed. Found with the exporters' shapes (``--variants``, see
bench/quality_log.md, session of 17:50): scores cut at 0.5 listed 294 groups at the
default cut, 238 of them spurious_labels (precision 0.13; now 59 at 0.68), and a VOC-only
detector 60 spurious_labels of classes it never predicts. v11 (core/image_recall.py: a
spurious_label weighed by the share of the other labels of its image the detector matched,
shrunk towards the set's recall): no kind's own AP moves; on the clean labels, CenterNet cut
at 0.25, the default cut lists 3 spurious_labels of 160 groups (v10: 23 of 180); see
bench/quality_log.md, session of 20:30.

Diagnosis of missing_label (score version 4, seeds 0-4, CenterNet; 195 dropped labels): 65 have
no prediction of any class at IoU >= 0.5, 14 only predictions inside a crowd region (COCO
ignores those: not a missing label by its rules), 14 only predictions below min_score's
calibrated probability, 82 are listed. Above the listed ones rank the clean data's own
unexplained predictions, the same in every seed: in the first 60 per seed, 134 of the
non-hits overlap no label (hallucinations on texture and some real unlabelled objects, judged
in the pixels), 54 a same-class label at IoU 0.1-0.3 and 42 an other-class label. Ranking the
same candidates by raw confidence gives 0.224 (0.240 with the 32 px size factor) against 0.198
by calibrated probability: on these 81 images, with 15% of the labels corrupted, the class
curves of rare classes are too flat (classes with <= 5 labels: calibrated 0.14 / 0.25 / 0.38
where 1% / 10% / 16% are right), and a dropped label's own prediction, now a false positive,
pulls its class's curve down (hits' mean probability 0.61 on the clean labels, 0.49 injected).
Tried on the same candidates and left out (AP CenterNet seeds 0-4, against 0.198 for
version 4, or 0.205 for version 5 where marked *): looser class priors (0.195-0.199), pooled
or isotonic curves (0.163-0.201), a leave-one-out probability (0.198), a curve fitted on true
positives against unexplained false positives only (0.200), an EM fit for unlabelled objects*
(0.206-0.209), the share of the class's true positives below the prediction times its
probability (0.208), class-count priors (0.194-0.200), same-class labels on the image
(0.196-0.202) or true positives (0.203), the prediction's rank in its image (0.189-0.199),
other-class predictions on it* (CenterNet 0.214, NanoDet 0.116 from 0.125), containment in
other-class labels* (0.185-0.197), and a size term fitted per analysis instead of the fixed
factor* (CenterNet 0.215, NanoDet 0.139, blurred 0.090 from 0.109). One lead for the
calibration's fit: class and pooled coefficients fitted jointly (the pooled ones the centre of
the classes') with a ceiling ``1 - eps`` on P(tp) (eps fitted: 0.04-0.11, the share of real
objects without a right label), its ``sigmoid`` then read as the object's probability, ranked
the version 5 candidates at 0.222* (0.212 jointly without the ceiling); measured offline
(scipy), not on the other kinds. Built in score version 6's session (EM for ``eps``,
Newton on all coefficients, on counts per class and bin of ``z``): missing CenterNet 0.205 ->
0.215 (0.204 without the ceiling), NanoDet 0.125 -> 0.127, blurred 0.109 -> 0.107, but
inaccurate 0.364 -> 0.357, and on seeds 5-9 inaccurate 0.327 -> 0.316 and blurred missing
0.104 -> 0.098: left out. Variations (seeds 0-4, missing CenterNet): class standard
deviations 0.3 / 0.5 / 2 (0.218 / 0.217 / 0.209; NanoDet 0.125 / 0.128 / 0.116); the centre a
line in the class's log label count (0.215); an unlabelled share per class shrunk to the set's
(10 / 30 / 100 objects' worth) as missing_label odds (0.209 / 0.211 / 0.214); the curves read
as ``(1 - eps) sigmoid`` (0.215). Also tried for version 6 and left out: missing_label scores
divided by ``1 + l x`` the other candidates' scores (or count, or best) on the image (l 0.1-1:
0.213-0.145, by count 0.159-0.085, best 0.212-0.204); the size factor's side 16-192 px and
power (0.192-0.218 with the probability); the same-class context in three bins (0 / 1 / 2+
other labels: CenterNet 0.210, NanoDet 0.127, against 0.214 / 0.136 for two) or its fitted
factor to the power 0.5 / 2 (0.210 / 0.213); a class's recall (true positives over labels,
shrunk to all) as a factor on wrong_class (power 0.5: 0.653 -> 0.523, NanoDet 0.326 -> 0.192:
the injected labels lower the recall of their random class) or inaccurate_label (0.352 /
0.330); the label's same-class context on inaccurate_label (fixed factors 0.7-0.9: 0.304-0.363
against 0.364). A lead not taken: inaccurate_label's own weight (OWN_WEIGHT_INACCURATE) 0.3 /
0.4 / 0.6 on version 6 (against 0.2) lifts all kinds (CenterNet P@50 0.888 -> 0.944 / 0.968 /
0.968, AP 0.504 -> 0.517 / 0.519 / 0.512; NanoDet inaccurate 0.219 -> 0.232 / 0.244 / 0.250,
all 0.362 -> 0.367 / 0.365 / 0.359) but costs blurred's inaccurate_label (0.326 -> 0.321 /
0.315 / 0.301) and synthetic's all kinds (0.646 -> 0.643 / 0.639 / 0.631).

Run: ``python bench/bench_quality.py`` (about 10 minutes on 2 cores for all setups;
``--labelfix-only`` skips cleanlab, ``--setups centernet`` picks setups, ``--crops DIR`` writes
a PNG per listed top clean suspect; ``--variants all`` also runs each setup in real exporters'
shapes, ``--no-earlier`` skips the earlier scorings, ``--score-version N`` and ``--json F``
give two runs to pair). The summary's last columns are the default cut's: the cut, the groups
it lists, the precision and recall of the suspects above it, and the errors their scores
expect over those injected. Prints the tables and writes them to
``bench/out/quality.md``.

Modules: ``quality_data`` (setups), ``quality_inject`` (the injected errors),
``quality_metrics`` (hits, P@k, AP), ``quality_labelfix`` (LabelFix's runs, its default cut,
earlier scorings, top clean suspects), ``quality_baselines`` (cleanlab and the baselines),
``quality_run`` (per setup and seed, every method's metrics), ``quality_tables`` (the markdown).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_data import MULTI_SETUPS, SETUPS, VARIANTS, setup_named  # noqa: E402
from quality_labelfix import (  # noqa: E402, F401  (EARLIER, RAW_NAME, ...: for the offline benches)
    CUT_METRICS,
    EARLIER,
    RAW_NAME,
    labelfix_by_kind,
    run_labelfix,
    top_clean_suspects,
)
from quality_metrics import METRICS, evaluate, evaluate_all  # noqa: E402, F401
from quality_run import run, tune_cleanlab  # noqa: E402
from quality_tables import format_summary, format_tables  # noqa: E402

from labelfix.core.errors import AnalysisParams  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "quality.md"
# Setups whose top suspects on the clean labels are listed (the real detectors and the fake
# results; the rescaled and blurred CenterNet share its images and mostly its list).
TOP_LISTED = ("centernet", "nanodet", "yolov8s", "ssdlite", "synthetic")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the tables and write them to bench/out/quality.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="5-9", help="report seeds, e.g. 5-9 or 0-4 (default 5-9)")
    ap.add_argument("--tune-seeds", default="0-4", help="seeds cleanlab's thresholds are tuned on")
    ap.add_argument(
        "--setups",
        default=",".join((*SETUPS, *MULTI_SETUPS)),
        help=f"comma-separated, from {', '.join((*SETUPS, *MULTI_SETUPS))} (default: all "
        "present), BASE-VARIANT (e.g. nanodet-cut25) or several sets together A+B[+...]",
    )
    ap.add_argument(
        "--variants",
        default="",
        help="comma-separated, from "
        f"{', '.join(VARIANTS)} (or 'all'): each setup is also run in these shapes, right "
        "after it (quality_data.VARIANTS)",
    )
    ap.add_argument(
        "--no-earlier", action="store_true", help="skip LabelFix's earlier scorings (faster)"
    )
    ap.add_argument(
        "--score-version", type=int, help="LabelFix's score version (default: the current one)"
    )
    ap.add_argument(
        "--scores",
        choices=("per-class", "comparable"),
        default="per-class",
        help="LabelFix's `analyze --scores` (default per-class; comparable: missing_label by "
        "the curve pooled over all classes, core/score_scale.py)",
    )
    ap.add_argument(
        "--json",
        type=Path,
        help="also write every setup's per-seed metrics here (setup -> kind -> method -> "
        "seeds x metrics), for paired comparisons of two runs",
    )
    ap.add_argument("--labelfix-only", action="store_true", help="skip cleanlab and baselines")
    ap.add_argument("--top", type=int, default=20, help="top clean suspects listed per real setup")
    ap.add_argument("--crops", type=Path, help="write a crop PNG of each listed top suspect here")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    args = ap.parse_args(argv)

    def seeds_of(text: str) -> list[int]:
        lo, _, hi = text.partition("-")
        return list(range(int(lo), int(hi or lo) + 1))

    report_seeds, tune_seeds = seeds_of(args.seeds), seeds_of(args.tune_seeds)
    variants = (
        list(VARIANTS) if args.variants == "all" else [v for v in args.variants.split(",") if v]
    )
    wanted = [
        setup_named(f"{n}-{v}" if v else n)
        for n in args.setups.split(",")
        if n
        for v in ("", *variants)
    ]
    missing = [s.name for s in wanted if not s.available()]
    if missing:
        print(f"input data not present for: {', '.join(missing)} (skipped)", file=sys.stderr)
    wanted = [s for s in wanted if s.available()]
    if not wanted:
        return 2
    t0 = time.perf_counter()
    params = AnalysisParams()
    if args.score_version is not None:
        params = replace(params, score_version=args.score_version)
    params = replace(params, scores=args.scores)
    overlap = sorted(set(report_seeds) & set(tune_seeds))
    note = "" if not overlap else f" (NOTE: seeds {overlap} are also tuning seeds)"
    text = (
        "## Suspect quality\n\n"
        f"Report seeds {report_seeds[0]}-{report_seeds[-1]}{note}; mean ± std over seeds. P@k: "
        "precision of the top k of a method's ranking, k = errors injected; P@50 / P@100: in "
        "the first 50 / 100; recall: injected errors the method lists at all; AP: mean precision "
        "at each hit over all injected errors. A second candidate on an already-found error "
        "counts as a miss. 'All kinds': LabelFix's suspects of every kind (spurious_label "
        "too) in one ranking by score, against all injected errors. cleanlab ranks by its "
        "per-box subtype scores (overlooked: predictions; swap, badloc: labels), thresholds tuned "
        f"on seeds {tune_seeds[0]}-{tune_seeds[-1]} of each setup. LabelFix's scoring was chosen "
        "on seeds 0-4 of centernet, centernet-blurred and synthetic only.\n\n"
    )
    by_setup = {}
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for setup in wanted:
            only = args.labelfix_only or setup.multi  # cleanlab takes one set
            tuned = None if only else tune_cleanlab(setup.name, tune_seeds, pool)
            results, counts = run(
                setup.name,
                report_seeds,
                params,
                tuned,
                pool,
                not only,
                not args.no_earlier,
            )
            by_setup[setup.name] = results
            thresholds = (
                ""
                if tuned is None
                else (
                    "cleanlab thresholds: "
                    + ", ".join(f"{k} {v:g}" for k, v in tuned.items())
                    + "\n\n"
                )
            )
            text += f"## {setup.name}: {setup.title}\n\n{thresholds}"
            text += format_tables(results, counts, report_seeds) + "\n"
            print(f"{setup.name} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    text += "## Summary (LabelFix)\n\n" + format_summary(by_setup) + "\n\n"
    for setup in wanted:
        listed = setup.name in TOP_LISTED or setup.multi
        if not listed or args.top <= 0:
            continue
        data, pred_records = setup.load_sets()
        table, top = top_clean_suspects(data, pred_records, params, args.top)
        text += f"### Top {args.top} suspects on the clean (un-injected) data: {setup.name}\n\n"
        text += table + "\n\n"
        if args.crops is not None:
            from quality_crops import write_crops

            write_crops(top, data, args.crops / setup.name)
    print(text)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "seeds": report_seeds,
                    "metrics": list(METRICS),
                    "cut_metrics": list(CUT_METRICS),
                    "setups": {
                        s: {k: {m: a.tolist() for m, a in ms.items()} for k, ms in r.items()}
                        for s, r in by_setup.items()
                    },
                }
            )
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
