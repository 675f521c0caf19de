"""The canvas: image with label and prediction overlays."""
