"""Packaging files (packaging/, the app icon): fast checks that need no bundle build."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def load(name: str) -> object:
    """Import packaging/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(f"packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_spec_parses_and_uses_the_launcher() -> None:
    source = (PACKAGING / "labelfix.spec").read_text(encoding="utf-8")
    tree = ast.parse(source, filename="labelfix.spec")
    names = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert {"Analysis", "PYZ", "EXE", "COLLECT"} <= names
    assert "launcher.py" in source
    assert (PACKAGING / "launcher.py").is_file()


def test_spec_excludes_test_only_libraries() -> None:
    source = (PACKAGING / "labelfix.spec").read_text(encoding="utf-8")
    for module in ("pandas", "sklearn", "cleanlab", "scipy", "matplotlib", "tkinter", "cv2"):
        assert f'"{module}"' in source, module


def test_desktop_entry_has_the_required_keys() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(PACKAGING / "labelfix.desktop", encoding="utf-8")
    group = entry["Desktop Entry"]
    assert group["Type"] == "Application"
    assert group["Name"] == "LabelFix"
    assert group["GenericName"] == "Label error review"
    assert group["Comment"]
    assert group["Exec"] == "labelfix %f"
    assert group["Icon"] == "labelfix"
    assert group["Terminal"] == "false"
    assert group["Categories"] == "Graphics;Science;Development;"
    assert group["MimeType"] == "application/x-labelfix-project;"


def test_mime_type_matches_the_desktop_entry() -> None:
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(PACKAGING / "labelfix-mime.xml").getroot()
    mime = root.find("m:mime-type", ns)
    assert mime is not None and mime.get("type") == "application/x-labelfix-project"
    assert [g.get("pattern") for g in mime.findall("m:glob", ns)] == ["*.labelfix"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="no desktop-file-utils")
def test_desktop_entry_validates() -> None:
    out = subprocess.run(
        ["desktop-file-validate", str(PACKAGING / "labelfix.desktop")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "error" not in out.stdout.lower()


def test_icon_svg_and_every_png_size_exist() -> None:
    svg = ET.parse(ICONS / "labelfix.svg").getroot()
    assert svg.get("viewBox") == "0 0 256 256"
    for size in ICON_SIZES:
        path = ICONS / f"labelfix-{size}.png"
        assert path.is_file(), path.name
        assert png_size(path) == (size, size), path.name


def test_render_icons_lists_the_same_sizes() -> None:
    assert load("render_icons").SIZES == ICON_SIZES


def test_launcher_imports_and_runs_the_cli() -> None:
    launcher = load("launcher")
    assert callable(launcher.main)
    out = subprocess.run(
        [sys.executable, str(PACKAGING / "launcher.py"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("labelfix ")


def test_launcher_runs_dash_c_children_when_frozen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    launcher = load("launcher")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    code = "import sys; print('child', sys.argv[1:], __name__)"
    monkeypatch.setattr(sys, "argv", ["labelfix", "-c", code, "a", "b"])
    launcher.main()
    assert capsys.readouterr().out == "child ['a', 'b'] __main__\n"


def test_check_bundle_reports_a_missing_bundle(tmp_path: Path) -> None:
    problems = load("check_bundle").check(tmp_path, 250)
    assert problems and "missing" in problems[0]


def test_check_bundle_wants_onnxruntime_and_refuses_its_tools(tmp_path: Path) -> None:
    """A bundle folder without onnxruntime's library, or with onnx or onnxruntime's tools in it,
    is reported (the module list is empty here: no PyInstaller archive to read)."""
    internal = tmp_path / "_internal"
    (internal / "onnx").mkdir(parents=True)
    (tmp_path / "labelfix").write_bytes(b"")
    problems = load("check_bundle").check(tmp_path, 0)
    assert any("onnxruntime_pybind11_state" in p for p in problems)
    assert any(p.startswith("onnx is bundled") for p in problems)
    capi = internal / "onnxruntime" / "capi"
    capi.mkdir(parents=True)
    (capi / "onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    (internal / "onnx").rmdir()
    problems = load("check_bundle").check(tmp_path, 0)
    assert not any("onnx" in p for p in problems), problems


def test_spec_keeps_onnxruntime_tools_out() -> None:
    source = (PACKAGING / "labelfix.spec").read_text(encoding="utf-8")
    for module in ("onnx", "onnxruntime.tools", "onnxruntime.transformers", "sympy"):
        assert f'"{module}"' in source, module
    assert '"onnxruntime"]' in source  # a hidden import: LabelFix imports it inside a function


@pytest.mark.parametrize("script", ["build.sh", "ci_bundle.sh", "install_desktop.sh"])
def test_shell_scripts_parse(script: str) -> None:
    out = subprocess.run(["bash", "-n", str(PACKAGING / script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_every_folder_of_the_packages_is_declared() -> None:
    """setuptools prints a page of "Package would be ignored" for every folder Python could
    import (a namespace package) that `packages` does not list; the Quick start's pip install
    printed ~135 lines of them for the data folders."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    declared = set(config["packages"])
    found = set()
    for name, folder in config["package-dir"].items():
        for sub in (ROOT / folder).rglob("*"):
            if sub.is_dir() and "__pycache__" not in sub.parts and any(sub.iterdir()):
                found.add(".".join([name, *sub.relative_to(ROOT / folder).parts]))
        found.add(name)
    assert found <= declared, sorted(found - declared)
    data = config["package-data"]
    for package in (
        "labelfix.resources.demo",
        "labelfix.resources.demo.images",
        "labelfix.resources.icons",
    ):
        assert package in data, package
