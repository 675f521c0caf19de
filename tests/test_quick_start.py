"""The README's Quick start on a fresh clone: `bash tools/test.sh` must run where the shared
real data (``../shared/data``) is absent, skipping what needs it instead of stopping."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_module_needing_absent_shared_data_is_skipped_not_an_error(tmp_path: Path) -> None:
    """tests/desktop/test_end_to_end.py reads the shared data at import; in a clone without
    it, pytest stopped the whole run with a collection error (`pytest.skip` outside a test)."""
    module = tmp_path / "test_needs_data.py"
    module.write_text(
        "from helpers import shared_path\n"
        "DATA = shared_path('no-such-folder-anywhere')\n\n"
        "def test_reads_it():\n"
        "    assert DATA.exists()\n"
    )
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert True\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT / "tests"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed, 1 skipped" in run.stdout
