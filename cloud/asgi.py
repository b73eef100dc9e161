"""ASGI entry point for uvicorn/gunicorn: settings come from the environment."""

from cloud.main import create_app

app = create_app()
