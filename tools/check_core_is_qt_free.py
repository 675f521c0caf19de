"""Import every module of labelfix.core and fail if any Qt binding got loaded."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import labelfix.core

for info in pkgutil.iter_modules(labelfix.core.__path__):
    importlib.import_module(f"labelfix.core.{info.name}")
qt = sorted(m for m in sys.modules if m.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6"})
if qt:
    sys.exit(f"labelfix.core imported Qt: {qt}")
print(
    f"labelfix.core is Qt-free ({len(list(pkgutil.iter_modules(labelfix.core.__path__)))} modules)"
)
