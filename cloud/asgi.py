"""ASGI entry point for uvicorn/gunicorn: settings come from the environment."""

from cloud.main import create_app
from shared.longlived import freeze_startup_objects

app = create_app()
freeze_startup_objects()
