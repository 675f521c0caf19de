"""The quality benchmark's markdown: per setup one table per kind and one for all kinds,
and the summary of LabelFix's numbers over setups."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from quality_inject import KIND_ORDER
from quality_labelfix import CUT, EARLIER
from quality_metrics import ALL_KINDS, METRICS


def _cell(arr: np.ndarray, c: int) -> str:
    return f"{np.nanmean(arr[:, c]):.3f} ± {np.nanstd(arr[:, c]):.3f}"


def format_tables(
    results: dict[str, dict[str, np.ndarray]], counts: list[dict], seeds: Sequence[int]
) -> str:
    """Markdown tables, one per kind and one for all kinds (mean ± std over seeds)."""
    lines = []
    for kind in (*KIND_ORDER, ALL_KINDS):
        if kind == ALL_KINDS:
            total = [sum(c.values()) for c in counts]
            head = f"### all kinds in one ranking (injected per seed: {min(total)}-{max(total)})"
        else:
            ks = [c[kind] for c in counts]
            head = (
                f"### {kind} (injected per seed: {min(ks)}-{max(ks)}; seeds {seeds[0]}-{seeds[-1]})"
            )
        lines += [
            head,
            "",
            f"| method | {' | '.join(METRICS)} |",
            "|---" * (len(METRICS) + 1) + "|",
        ]
        for name, arr in results[kind].items():
            cells = [_cell(arr, c) for c in range(len(METRICS))]
            lines.append(f"| {name} | {' | '.join(cells)} |")
        lines.append("")
    return "\n".join(lines)


def format_summary(by_setup: dict[str, dict[str, dict[str, np.ndarray]]]) -> str:
    """One row per setup: LabelFix's AP per kind, P@50 / P@100 / AP over all kinds, and its
    default cut (:func:`cut_stats`: the cut, groups listed, precision and recall of the suspects
    above it, errors their scores expect over those injected); means over seeds."""
    ap = METRICS.index("AP")
    lines = [
        "| setup | missing AP | wrong class AP | inaccurate AP | duplicate AP | all: P@50 | "
        "all: P@100 | all: AP | cut | listed | P@cut | found@cut | expected@cut |",
        "|---" * 13 + "|",
    ]
    for name, results in by_setup.items():
        methods = [("LabelFix", name)] + [
            (m, f"{name} ({suffix})") for m, suffix, _ in EARLIER if m in results[ALL_KINDS]
        ]
        for method, label in methods:
            cells = [f"{np.nanmean(results[k][method][:, ap]):.3f}" for k in KIND_ORDER]
            overall = results[ALL_KINDS][method]
            cells += [
                f"{np.nanmean(overall[:, METRICS.index(m)]):.3f}" for m in ("P@50", "P@100", "AP")
            ]
            cut = results.get(CUT, {}).get(method)
            if cut is not None:
                cells += [f"{np.nanmean(cut[:, c]):.{0 if c == 1 else 3}f}" for c in range(5)]
            else:
                cells += [""] * 5
            lines.append(f"| {label} | {' | '.join(cells)} |")
    return "\n".join(lines)
