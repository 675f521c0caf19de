"""Entry point of the bundled (PyInstaller) LabelFix: runs :func:`labelfix.cli.main`.

A frozen app has no separate Python interpreter: ``sys.executable`` is the ``labelfix`` program
itself. The desktop's background jobs start a child as ``[sys.executable, "-c", CODE]``, so in
the bundle ``labelfix -c CODE [ARG ...]`` runs CODE the way ``python -c`` would.
"""

from __future__ import annotations

import multiprocessing
import sys


def run_code(code: str, args: list[str]) -> None:
    """Run ``code`` as ``python -c code args...`` would, in a fresh ``__main__`` namespace."""
    sys.argv = ["-c", *args]
    exec(compile(code, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})


def main() -> None:
    """Run LabelFix (or a ``-c`` child job when frozen)."""
    multiprocessing.freeze_support()  # a no-op unless frozen; lets worker processes start
    if getattr(sys, "frozen", False) and len(sys.argv) >= 3 and sys.argv[1] == "-c":
        run_code(sys.argv[2], sys.argv[3:])
        return
    from labelfix.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
