"""The window's team-project parts: opening one, the Team dock, following the server."""
