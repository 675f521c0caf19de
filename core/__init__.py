"""The Qt-free LabelFix engine: COCO I/O, the SQLite project, matching, suspects, edits."""
