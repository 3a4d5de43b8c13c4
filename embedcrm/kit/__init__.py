"""What every domain builds on: the workspace-bound repository and the table helpers."""
