"""Bundled resources: icons, styles and the demo project."""
