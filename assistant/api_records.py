"""Routes for the metadata records part of the library platform (issue 6); filled in by its own change."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["records"])
