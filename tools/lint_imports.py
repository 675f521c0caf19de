"""Check the import-linter contracts of pyproject.toml (the layers of LabelFix).

The repository's folders become ``labelfix.core`` / ``labelfix.desktop`` through setuptools'
``package-dir``; an editable install resolves them with an import hook that import-linter
cannot walk. So this lays the package out as it is installed (links to the real files) in a
temporary folder and runs ``lint-imports`` on that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run lint-imports on the installed layout; returns its exit code."""
    config = ROOT / "pyproject.toml"
    mapping = tomllib.loads(config.read_text())["tool"]["setuptools"]["package-dir"]
    with tempfile.TemporaryDirectory() as tmp:
        for package, folder in mapping.items():
            dest = Path(tmp, *package.split("."))
            dest.mkdir(parents=True, exist_ok=True)
            for source in (ROOT / folder).glob("*.py"):
                (dest / source.name).symlink_to(source)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([tmp, os.environ.get("PYTHONPATH", "")]))
        lint = Path(sys.executable).parent / "lint-imports"
        return subprocess.run(
            [str(lint), str(config), "--no-cache"], cwd=tmp, env=env
        ).returncode


if __name__ == "__main__":
    sys.exit(main())
