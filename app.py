"""The composition root: builds the FastAPI app from settings, and nothing else.

Importing this module does no work (no settings read, no model loaded); the app's lifespan opens
the library and loads the models once. Run it with ``souwen serve`` or::

    uvicorn app:create_app --factory --host 127.0.0.1 --port 8000
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API (assistant.api) on one app; settings default to the SOUWEN_* environment."""
    from assistant.api import create_api
    from assistant.settings import Settings

    app = create_api(settings or Settings())
    # The Gradio UI (assistant.ui) is mounted here at /ui, on the same service object as the API:
    # build_ui(lambda: app.state.service), which the lifespan sets before the first request.
    return app
