"""``python -m labelfix.desktop [open X | demo]``: run the desktop app."""

from __future__ import annotations

import sys

from .app import main

sys.exit(main(sys.argv[1:]))
