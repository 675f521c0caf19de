"""Check a built one-folder bundle: the executable is there, the demo and icons came along,
onnxruntime's inference library is there (``labelfix predict``, "Run a model…"), no test-only
library was bundled, every Qt library a bundled binary links to is present, and the size is
under a limit. Prints one line per problem; exits 1 if there is any.

Usage: python packaging/check_bundle.py dist/labelfix [--max-mb 250]   (0: no size limit)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

# Top-level packages and folders that must never be in the bundle (test-only, or large).
FORBIDDEN = (
    *("pandas", "sklearn", "cleanlab", "scipy", "matplotlib", "tkinter", "hypothesis"),
    *("cv2", "opencv_python_headless.libs"),  # left out for size; Pillow and core.contours stand in
    *("onnx", "sympy", "torch"),  # onnx builds test models; onnxruntime runs them without it
    *("onnxruntime.tools", "onnxruntime.quantization", "onnxruntime.transformers"),
)
# Modules that must be bundled although LabelFix imports them only when needed.
REQUIRED_MODULES = ("onnxruntime", "onnxruntime.capi._pybind_state")
# Binaries they need, relative to the bundle's _internal folder (glob patterns).
REQUIRED_BINARIES = ("onnxruntime/capi/onnxruntime_pybind11_state*.so",)
# Files the app reads at run time, relative to the bundle's labelfix/resources folder.
REQUIRED_RESOURCES = (
    "style.qss",
    "demo/labels.json",
    "demo/predictions.json",
    "icons/labelfix.svg",
)
NOT_FOUND = re.compile(r"^\s*(\S+) => not found", re.MULTILINE)


def bundle_size(folder: Path) -> tuple[int, int]:
    """(bytes, file count) of every regular file under ``folder``."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def bundled_modules(executable: Path) -> list[str]:
    """Names in the executable's embedded archive (modules of the PYZ included)."""
    try:
        from PyInstaller.archive.readers import pkg_archive_contents
    except ImportError:
        return []
    try:
        return pkg_archive_contents(str(executable), recursive=True)
    except Exception:  # noqa: BLE001 - not a PyInstaller executable: nothing to list
        return []


def missing_qt_libraries(internal: Path) -> dict[str, set[str]]:
    """Bundled Qt binaries -> the ``libQt6*`` libraries they link to that cannot be found."""
    missing: dict[str, set[str]] = {}
    for path in sorted(internal.rglob("*.so*")):
        if not path.is_file() or "PySide6" not in path.parts and "shiboken6" not in path.parts:
            continue
        try:
            out = subprocess.run(
                ["ldd", str(path)], capture_output=True, text=True, timeout=30
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return {}  # no ldd here: skip the check
        libs = {name for name in NOT_FOUND.findall(out) if name.startswith("libQt6")}
        if libs:
            missing[str(path.relative_to(internal))] = libs
    return missing


def check(folder: Path, max_mb: float) -> list[str]:
    """Problems found in the bundle at ``folder`` (empty when it is fine)."""
    problems = []
    executable = folder / "labelfix"
    internal = folder / "_internal"
    if not executable.is_file():
        return [f"{executable}: missing"]
    for name in REQUIRED_RESOURCES:
        if not (internal / "labelfix" / "resources" / name).is_file():
            problems.append(f"resource missing from the bundle: labelfix/resources/{name}")
    modules = bundled_modules(executable)
    names = modules + [p.name for p in internal.iterdir()]
    for module in REQUIRED_MODULES if modules else ():
        if module not in modules:
            problems.append(f"{module} is not bundled: running a model would fail")
    for pattern in REQUIRED_BINARIES:
        if not any(internal.glob(pattern)):
            problems.append(f"no {pattern} in the bundle: running a model would fail")
    for package in FORBIDDEN:
        hits = sorted({n for n in names if n == package or n.startswith(package + ".")})
        if hits:
            problems.append(f"{package} is bundled but must not be: {', '.join(hits[:5])}")
    if sys.platform == "linux":
        for binary, libs in missing_qt_libraries(internal).items():
            problems.append(f"{binary} links to {', '.join(sorted(libs))}, which was pruned")
    size, _ = bundle_size(folder)
    if max_mb > 0 and size > max_mb * 1024 * 1024:
        problems.append(f"the bundle is {size / 1024 / 1024:.0f} MB, over the {max_mb:g} MB limit")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check the bundle folder given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the bundle, e.g. dist/labelfix")
    parser.add_argument(
        "--max-mb", type=float, default=250.0, help="size limit (default 250; 0: none)"
    )
    args = parser.parse_args(argv)
    problems = check(args.folder, args.max_mb)
    for problem in problems:
        print(f"check_bundle: {problem}", file=sys.stderr)
    size, count = bundle_size(args.folder) if args.folder.is_dir() else (0, 0)
    verdict = "FAILED" if problems else "ok"
    print(f"check_bundle: {verdict}: {size / 1024 / 1024:.1f} MB in {count} files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
