"""The open project as the window sees it: :class:`Session` and its parts (see session.py)."""

from .session import Session
from .ui_state import filter_from_json, filter_to_json

__all__ = ["Session", "filter_from_json", "filter_to_json"]
