"""LabelFix: find and fix label errors in COCO datasets.

The code lives in the repository's top-level folders, mapped into this namespace at install
time: ``core/`` is :mod:`labelfix.core` (Qt-free engine), ``desktop/`` is
:mod:`labelfix.desktop` (the Qt app), ``resources/`` is :mod:`labelfix.resources`.
"""

from __future__ import annotations

__version__ = "0.1.0"
