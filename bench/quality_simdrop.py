"""missing_label ranked by a per-analysis model of simulated drops (offline, on the dumps of
``quality_offline.py --dump``; not landed, see quality_log.md, session of 2026-11-30 23:05).

In each analysis (setup and seed), every true positive's matched label is removed alone (leave
one out); the candidate rule of core.errors (same-class IoU < 0.3, other-class < 0.4, its
class's crowd < 0.1, probability >= min_score 0.05) and the candidates' NMS at IoU 0.5 (against
every prediction that world leaves unexplained) say whether it would become a missing_label
candidate. Those are the simulated drops; a logistic regression (numpy, standardised features,
N(0, 1) priors; optionally per-class intercepts) separates them from the analysis's real
candidates on features invariant to a per-class monotone rescaling of the scores
(:data:`FEATURES`: the calibrated probability's logit, size against the class's labels and the
image, border contact, same-class neighbours, a higher prediction on it, the image's found
share, label counts, label overlap, aspect against the class's; the last five of
:data:`FEATURES` were tried on top of those, ``sharp`` from the image's pixels). The candidates are then
ranked by the model (``transfer``: today's missing_label scores handed out in the model's
order, so the kinds' scales stay as they are).

Run: ``python bench/quality_simdrop.py [--setups a,b] [--fidelity]`` (a minute per setup).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from labelfix.core import edge_fit
from labelfix.core.errors import _box_iou
from labelfix.core.matching import TP

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_data import IMAGES  # noqa: E402
from quality_offline import evaluate_setup, load  # noqa: E402

MIN_SCORE, SAME, OTHER, CROWD = 0.05, 0.3, 0.4, 0.1
FEATURES = (
    "z",
    "rel_class",
    "rel_image",
    "border",
    "n_same",
    "higher",
    "img_recall",
    "img_labels",
    "class_labels",
    "overlap",
    "aspect",
    "img_class_labels",
    "z_vs_image",
    "img_cands",
    "img_cand_p",
    "sharp",
)


def _crowd_overlap(p: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Intersection over the prediction's area (COCO's crowd IoU), xywh."""
    if not len(p) or not len(c):
        return np.zeros((len(p), len(c)))
    x0 = np.maximum(p[:, None, 0], c[None, :, 0])
    y0 = np.maximum(p[:, None, 1], c[None, :, 1])
    x1 = np.minimum(p[:, None, 0] + p[:, None, 2], c[None, :, 0] + c[None, :, 2])
    y1 = np.minimum(p[:, None, 1] + p[:, None, 3], c[None, :, 1] + c[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    return inter / np.maximum(p[:, 2] * p[:, 3], 1e-9)[:, None]


class Analysis:
    """One setup and seed: predictions, labels and their geometry."""

    def __init__(self, setup: str, seed: int) -> None:
        pred_records, per_seed = load(setup)
        truth, suspects, cols, prob = per_seed[seed]
        self.truth, self.suspects = truth, suspects
        pid = cols["prediction_id"]
        self.pid = pid
        self.p = prob
        self.p_sim = prob
        self.scores = np.array([pred_records[i - 1]["score"] for i in pid], np.float64)
        self.all_cats = np.array([r["category_id"] for r in pred_records], np.int64)
        self.all_scores = np.array([r["score"] for r in pred_records], np.float64)
        self.outcome = cols["outcome"]
        self.match = cols["annotation_id"]
        self.img = cols["image_id"]
        self.cat = np.array([pred_records[i - 1]["category_id"] for i in pid], np.int64)
        self.box = np.array([pred_records[i - 1]["bbox"] for i in pid], np.float64)
        anns = truth.data["annotations"]
        self.l_id = np.array([a["id"] for a in anns], np.int64)
        self.l_img = np.array([a["image_id"] for a in anns], np.int64)
        self.l_cat = np.array([a["category_id"] for a in anns], np.int64)
        self.l_box = np.array([a["bbox"] for a in anns], np.float64).reshape(-1, 4)
        self.l_crowd = np.array([bool(a.get("iscrowd")) for a in anns])
        sizes = {im["id"]: (im["width"], im["height"]) for im in truth.data["images"]}
        self.size = np.array([sizes[i] for i in self.img], np.float64)
        reg = ~self.l_crowd
        self.class_count: dict[int, int] = {}
        for c in self.l_cat[reg].tolist():
            self.class_count[c] = self.class_count.get(c, 0) + 1
        side = np.sqrt(self.l_box[:, 2] * self.l_box[:, 3])
        asp = np.log(np.maximum(self.l_box[:, 2], 1e-3) / np.maximum(self.l_box[:, 3], 1e-3))
        self.class_side = {
            c: float(np.median(side[reg & (self.l_cat == c)])) for c in self.class_count
        }
        self.class_aspect = {
            c: float(np.median(asp[reg & (self.l_cat == c)])) for c in self.class_count
        }
        self.images = np.unique(self.img)
        self.by_img = {i: np.flatnonzero(self.img == i) for i in self.images}
        self.lab_img = {i: np.flatnonzero(self.l_img == i) for i in self.images}
        self.tp_labels = set(self.match[self.outcome == TP].tolist())
        found = np.isin(self.l_id, self.match[self.outcome == TP]) & reg
        self.recall = found.sum() / max(reg.sum(), 1)
        self.found = found
        # per image, the IoU matrices
        self.iou: dict[int, np.ndarray] = {}
        self.crowd: dict[int, np.ndarray] = {}
        self.pp: dict[int, np.ndarray] = {}
        for i in self.images:
            ps, ls = self.by_img[i], self.lab_img.get(i, np.zeros(0, np.int64))
            self.iou[i] = (
                _box_iou(self.box[ps], self.l_box[ls]) if len(ls) else np.zeros((len(ps), 0))
            )
            self.crowd[i] = _crowd_overlap(self.box[ps], self.l_box[ls])
            self.pp[i] = _box_iou(self.box[ps], self.box[ps])

    def _sharpness(self, image_id: int, box: np.ndarray) -> float:
        """log of the mean gradient magnitude inside the box over the image's (nan-free)."""
        if SHARP is None:
            return 0.0
        if image_id not in _GRADIENTS:
            name = next(im["file_name"] for im in self.truth.data["images"] if im["id"] == image_id)
            gray = edge_fit.gray_pixels(IMAGES / name, None)
            if gray is None:
                _GRADIENTS[image_id] = None
            else:
                gy, gx = np.gradient(gray.astype(np.float64))
                mag = np.hypot(gx, gy)
                integral = np.zeros((mag.shape[0] + 1, mag.shape[1] + 1))
                integral[1:, 1:] = mag.cumsum(0).cumsum(1)
                _GRADIENTS[image_id] = (integral, float(mag.mean()))
        got = _GRADIENTS[image_id]
        if got is None:
            return 0.0
        integral, mean = got
        hgt, wid = integral.shape[0] - 1, integral.shape[1] - 1
        x0, y0 = int(np.clip(box[0], 0, wid - 1)), int(np.clip(box[1], 0, hgt - 1))
        x1 = int(np.clip(np.ceil(box[0] + box[2]), x0 + 1, wid))
        y1 = int(np.clip(np.ceil(box[1] + box[3]), y0 + 1, hgt))
        total = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
        inside = total / ((x1 - x0) * (y1 - y0))
        return float(np.log((inside + 1e-3) / (mean + 1e-3)))

    def _image_tp_z(self, ps: np.ndarray, leave: int) -> float:
        """Mean logit p of the image's true positives (``leave``: one left out), else the
        set's."""
        tp = self.outcome[ps] == TP
        if leave >= 0:
            tp[leave] = False
        if not hasattr(self, "_set_tp_z"):
            q = np.clip(self.p[self.outcome == TP], 1e-4, 1 - 1e-4)
            self._set_tp_z = float(np.mean(np.log(q / (1 - q))))
        if not tp.any():
            return self._set_tp_z
        q = np.clip(self.p[ps][tp], 1e-4, 1 - 1e-4)
        z = np.log(q / (1 - q))
        return float((z.sum() + 3 * self._set_tp_z) / (len(z) + 3))

    def refit_drops(self, folds: int = 20) -> None:
        """Each true positive's probability refitted with its label (and a fold's share of
        the others) dropped: the calibration as the injected world fits it."""
        from labelfix.core import calibration
        from labelfix.core.matching import IGNORED

        rng = np.random.default_rng(12345)
        tp = np.flatnonzero(self.outcome == TP)
        fold = rng.integers(0, folds, len(tp))
        reg = ~self.l_crowd
        out = self.p.copy()
        for f in range(folds):
            sel = tp[fold == f]
            gone = np.isin(self.l_id, self.match[sel]) & reg
            counts: dict[int, int] = {}
            for c in self.l_cat[reg & ~gone].tolist():
                counts[c] = counts.get(c, 0) + 1
            is_tp = (self.outcome == TP).astype(float)
            is_tp[sel] = 0.0
            x = calibration.rank_positions(
                self.all_cats, self.all_scores, counts, self.cat, self.scores
            )
            fit = calibration.fit_calibration(self.cat, x, is_tp, counts, self.outcome != IGNORED)
            out[sel] = calibration.probabilities(fit, self.cat[sel], x[sel])
        self.p_sim = out

    def candidates(self, loo: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Prediction indices the candidate rule lets through (``loo``: the true positives
        that it would let through with their own matched label gone, each alone), and the
        feature matrix of all of them."""
        idx, feats = [], []
        for i in self.images:
            ps = self.by_img[i]
            ls = self.lab_img.get(i, np.zeros(0, np.int64))
            iou, cr = self.iou[i], self.crowd[i]
            lc, lcrowd = self.l_cat[ls], self.l_crowd[ls]
            same = self.cat[ps][:, None] == lc[None, :]
            reg = ~lcrowd[None, :]
            own = self.match[ps][:, None] == self.l_id[ls][None, :]
            tp = self.outcome[ps] == TP
            gone = own & tp[:, None] if loo else np.zeros_like(own)
            max_same = np.where(same & reg & ~gone, iou, 0).max(axis=1, initial=0)
            max_other = np.where(~same & reg & ~gone, iou, 0).max(axis=1, initial=0)
            in_crowd = np.where(same & ~reg, cr, 0).max(axis=1, initial=0)
            rule = (
                (max_same < SAME)
                & (max_other < OTHER)
                & (in_crowd < CROWD)
                & (self.p[ps] >= MIN_SCORE)
            )
            real = rule & ~tp
            order = np.flatnonzero(real)[np.argsort(-self.p[ps][real], kind="stable")]
            real_kept: list[int] = []
            for k in order:
                if all(self.pp[i][k, j] < 0.5 for j in real_kept):
                    real_kept.append(k)
            if loo:
                # each tp alone with its label gone: a candidate there if the rule lets it
                # through and no higher one of that world (its newly unexplained ones too)
                # overlaps it at IoU >= 0.5
                kept = []
                for k in np.flatnonzero(tp):
                    gone_k = np.zeros(len(ls), bool)
                    gone_k |= own[k]
                    ms = np.where(same & reg & ~gone_k[None, :], iou, 0).max(axis=1, initial=0)
                    mo = np.where(~same & reg & ~gone_k[None, :], iou, 0).max(axis=1, initial=0)
                    r = (ms < SAME) & (mo < OTHER) & (in_crowd < CROWD) & (self.p[ps] >= MIN_SCORE)
                    r &= ~tp
                    if not WORLD_NMS:  # only today's candidates suppress it (the confound)
                        r = real
                    pk = self.p_sim[ps][k]
                    if not (
                        ms[k] < SAME and mo[k] < OTHER and in_crowd[k] < CROWD and pk >= MIN_SCORE
                    ):
                        continue
                    above = r & (self.p[ps] > pk) & (self.pp[i][k] >= 0.5)
                    if not above.any():
                        kept.append(k)
                        max_same[k], max_other[k] = ms[k], mo[k]
            else:
                kept = list(real_kept)
            if not kept:
                continue
            kept = np.array(kept)
            lreg = ~lcrowd
            n_lab0 = int(lreg.sum())
            n_found0 = int((self.found[ls]).sum())
            w, h = self.size[ps[0]]
            for k in kept:
                g = ps[k]
                n_lab = n_lab0 - (1 if loo else 0)
                n_found = n_found0 - (1 if loo else 0)
                b = self.box[g]
                side = np.sqrt(max(b[2] * b[3], 1.0))
                c = int(self.cat[g])
                cs = self.class_side.get(c, side)
                ca = self.class_aspect.get(c, 0.0)
                border = float(
                    b[0] <= 0.01 * w
                    or b[1] <= 0.01 * h
                    or b[0] + b[2] >= 0.99 * w
                    or b[1] + b[3] >= 0.99 * h
                )
                same_pred = (self.cat[ps] == c) & (self.pp[i][k] >= 0.1)
                same_pred[k] = False
                pg = self.p_sim[g] if loo else self.p[g]
                higher = float(np.any((self.pp[i][k] >= 0.5) & (self.p[ps] > pg)))
                rec = (n_found + 10 * self.recall) / (n_lab + 10)
                pc = np.clip(pg, 1e-4, 1 - 1e-4)
                feats.append(
                    [
                        np.log(pc / (1 - pc)),
                        np.log(side / max(cs, 1.0)),
                        np.log(side / np.sqrt(w * h)),
                        border,
                        np.log1p(same_pred.sum()),
                        higher,
                        rec,
                        np.log1p(n_lab),
                        np.log1p(self.class_count.get(c, 0) - (1 if loo else 0)),
                        max(max_same[k], max_other[k]),
                        abs(np.log(max(b[2], 1e-3) / max(b[3], 1e-3)) - ca),
                        np.log1p(int(np.sum(lreg & (lc == c))) - (1 if loo else 0)),
                        np.log(pc / (1 - pc)) - self._image_tp_z(ps, k if loo else -1),
                        np.log1p(len(real_kept) + (1 if loo else 0)),
                        float(sum(self.p[ps][j] for j in real_kept if j != k)),
                        self._sharpness(int(i), b),
                    ]
                )
                idx.append(g)
        return np.array(idx, np.int64), np.array(feats, np.float64).reshape(-1, len(FEATURES))


def logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, sd: float = 1.0) -> np.ndarray:
    """MAP logistic coefficients (intercept first) with N(0, sd) priors on the slopes."""
    X = np.column_stack([np.ones(len(x)), x])
    c = np.zeros(X.shape[1])
    prec = np.r_[1e-6, np.full(x.shape[1], 1.0) / np.asarray(sd, float) ** 2]
    for _ in range(50):
        q = 1 / (1 + np.exp(-(X @ c)))
        g = X.T @ (w * (y - q)) - prec * c
        H = (X * (w * q * (1 - q))[:, None]).T @ X + np.diag(prec)
        step = np.linalg.solve(H, g)
        c += step
        if np.abs(step).max() < 1e-8:
            break
    return c


_CACHE: dict = {}
_GRADIENTS: dict = {}  # image id -> (integral of the gradient magnitude, its mean) or None
SHARP: bool | None = True  # None: the sharpness feature is 0 (not read)
# the calibration refitted with a twentieth of the true positives counted false (fails: see
# quality_log.md)
REFIT = False
# a simulated drop is suppressed by any higher prediction its world leaves unexplained (False:
# by today's candidates only, which lets the matching's mechanics in)
WORLD_NMS = True


def fitted(
    setup: str,
    seed: int,
    folds: int = 5,
    use=None,
    sd: float = 1.0,
    rest: bool = False,
    class_sd: float = 0.0,
):
    """Prediction id -> model logit for the real candidates."""
    key = (setup, seed)
    if key not in _CACHE:
        a = Analysis(setup, seed)
        real_idx, real_x = a.candidates(False)
        if REFIT:
            a.refit_drops()
        pos_idx, pos_x = a.candidates(True)
        _CACHE[key] = (a, real_idx, real_x, pos_x, pos_idx)
    a, real_idx, real_x, pos_x, _ = _CACHE[key]
    cols = list(range(len(FEATURES))) if use is None else [FEATURES.index(u) for u in use]
    x = np.concatenate([pos_x, real_x])[:, cols]
    mu, s = x.mean(axis=0), x.std(axis=0) + 1e-9
    xs = (x - mu) / s
    y = np.r_[np.ones(len(pos_x)), np.zeros(len(real_x))]
    w = np.where(y == 1, len(real_x) / max(len(pos_x), 1), 1.0)
    sds = None
    if class_sd:
        pc = np.r_[a.cat[_CACHE[key][4]], a.cat[real_idx]]
        classes = np.unique(pc)
        onehot = (pc[:, None] == classes[None, :]).astype(float)
        xs = np.column_stack([xs, onehot])
        sds = np.r_[np.full(len(cols), sd), np.full(len(classes), class_sd)]
    c = logistic(xs, y, w, sd if sds is None else sds)
    xr = np.column_stack([np.ones(len(real_x)), (real_x[:, cols] - mu) / s])
    if class_sd:
        xr = np.column_stack([xr, (a.cat[real_idx][:, None] == classes[None, :]).astype(float)])
    logit = xr @ c
    if rest and "z" in (use or FEATURES):
        names = list(use) if use else list(FEATURES)
        logit = logit - c[0]
        for name in ("z", "rel_image", "rel_class") if rest == "score" else ("z",):
            if name in names:
                j = 1 + names.index(name)
                logit = logit - c[j] * xr[:, j]
    return dict(zip(a.pid[real_idx].tolist(), logit.tolist(), strict=True)), c, a


def rescore_model(
    form: str = "model", use=None, sd: float = 1.0, power: float = 1.0, class_sd: float = 0.0
):
    def rescore(setup, seed, truth, suspects, pred_records):
        rest = {"rest": True, "rest_score": "score"}.get(form, False)
        m, _, _ = fitted(setup, seed, use=use, sd=sd, rest=rest, class_sd=class_sd)
        out = []
        for s in suspects:
            v = s["score"]
            if s["kind"] == "missing_label":
                lg = m.get(s["prediction_id"])
                if lg is None:
                    v = 0.0
                elif form == "model":
                    v = 1 / (1 + np.exp(-lg))
                elif form in ("times", "rest", "rest_score"):
                    v = v * np.exp(power * lg)
            out.append(v)
        out = np.array(out)
        if form == "transfer":  # today's missing scores, handed out in the model's order
            sel = np.array([s["kind"] == "missing_label" for s in suspects])
            old = np.array([s["score"] for s in suspects])[sel]
            logit = np.array(
                [
                    m.get(s["prediction_id"], -np.inf)
                    for s in suspects
                    if s["kind"] == "missing_label"
                ]
            )
            new = np.empty(len(old))
            new[np.argsort(-logit, kind="stable")] = np.sort(old)[::-1]
            out[sel] = new
        return out

    return rescore


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a positive > a negative), ties counting half."""
    both = np.r_[pos, neg]
    _, inv = np.unique(both, return_inverse=True)
    count = np.bincount(inv)
    rank = (np.cumsum(count) - (count - 1) / 2.0)[inv]
    n = len(pos)
    return float((rank[:n].sum() - n * (n + 1) / 2) / (n * len(neg)))


def fidelity(setup: str, seeds: range = range(5)) -> str:
    """Per feature: mean of the injected drops' candidates (hits), the simulated drops and the
    other candidates, and the AUCs hit / other, simulated / other, simulated / hit."""
    hits, others, sims = [], [], []
    for seed in seeds:
        fitted(setup, seed)
        a, real_idx, real_x, pos_x, _ = _CACHE[(setup, seed)]
        hit = np.zeros(len(real_idx), bool)
        for k, g in enumerate(real_idx):
            for d in a.truth.missing:
                if d["image_id"] == a.img[g] and d["category_id"] == a.cat[g]:
                    hit[k] |= _box_iou(a.box[g][None], np.array([d["bbox"]]))[0, 0] >= 0.5
        hits.append(real_x[hit])
        others.append(real_x[~hit])
        sims.append(pos_x)
    h, o, s = (np.concatenate(v) for v in (hits, others, sims))
    lines = [f"{setup}: {len(h)} hits, {len(o)} other candidates, {len(s)} simulated"]
    for j, f in enumerate(FEATURES):
        lines.append(
            f"  {f:16s} {h[:, j].mean():7.3f} {s[:, j].mean():7.3f} {o[:, j].mean():7.3f}  "
            f"{auc(h[:, j], o[:, j]):.3f} {auc(s[:, j], o[:, j]):.3f} {auc(s[:, j], h[:, j]):.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setups", default="centernet,nanodet,centernet-blurred,synthetic")
    ap.add_argument("--fidelity", action="store_true", help="features: hits vs simulated")
    args = ap.parse_args(argv)
    later = ("img_class_labels", "z_vs_image", "img_cands", "img_cand_p", "sharp")  # on top
    base_features = [f for f in FEATURES if f not in later]
    variants = {
        "A": rescore_model("transfer", use=base_features),
        "B (class intercepts)": rescore_model("transfer", use=base_features, class_sd=0.5),
    }
    for setup in [s for s in args.setups.split(",") if s]:
        if args.fidelity:
            print(fidelity(setup), flush=True)
            continue
        for seeds in (range(5), range(5, 10)):
            b = evaluate_setup(setup, seeds)
            cells = [f"{setup} {seeds.start}-{seeds.stop - 1} today {b[0]:.3f}/{b[6]:.3f}"]
            for name, r in variants.items():
                m = evaluate_setup(setup, seeds, r)
                cells.append(f"{name} {m[0]:.3f}/{m[6]:.3f}")
            print(" | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
