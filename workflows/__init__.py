"""Temporal workflows of onewindow, and (in ``domain``) the pure rules they orchestrate."""
