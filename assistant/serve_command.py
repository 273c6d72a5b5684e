"""`souwen serve`: the HTTP API (and the UI, once app.py mounts it at /ui) under uvicorn, one port.

The CLI builds the settings (SOUWEN_* and --library) and hands them to ``app.create_app``, so the
server runs on the same library and settings as every other sub-command; the models load once, in
the app's lifespan, before the first request is accepted. Binds to loopback unless --host says
otherwise: set ``SOUWEN_API__KEYS`` before exposing it beyond this machine.
"""
from __future__ import annotations

import argparse
import sys

from assistant.settings import Settings


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app import create_app

    keys = "API keys required" if settings.api.keys else "no API keys"
    print(f"souwen: serving {settings.library} on http://{args.host}:{args.port} "
          f"(API docs at /docs, {keys})", file=sys.stderr)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0
