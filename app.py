"""Composition root (filled in by the serve issue)."""
