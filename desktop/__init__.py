"""The LabelFix desktop application (PySide6)."""
