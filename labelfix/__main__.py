"""``python -m labelfix``: the same as the ``labelfix`` command."""

from __future__ import annotations

from .cli import main

main()
