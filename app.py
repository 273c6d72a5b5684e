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
    """The API (assistant.api) and the UI (assistant.ui, at /ui) on one app; settings default to
    the SOUWEN_* environment."""
    from assistant.api import create_api
    from assistant.settings import Settings

    app = create_api(settings or Settings())
    # The Gradio UI on the same app and the same service object as the API (the lifespan sets
    # app.state.service before the first request).
    import gradio as gr

    from assistant.ui import CSS, build_ui

    from assistant.api_deps import admits

    ui = build_ui(lambda: app.state.service, lambda: app.state.jobs)
    # With API keys set, the UI asks for one too (any user name; the key as password): an admin
    # key or a registered user's key, the same check as the API's.
    login = (lambda _user, key: admits(app.state, key or "")) if app.state.settings.api.keys else None
    return gr.mount_gradio_app(app, ui, path="/ui", css=CSS, auth=login,
                               auth_message="This Souwen server needs an API key: any user name, the key as password.",
                               max_file_size=f"{app.state.settings.api.max_upload_mb}mb")
