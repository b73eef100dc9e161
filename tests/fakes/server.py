"""Run an ASGI app as a real HTTP server on a free local port, in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.integration.mosquitto import free_port


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot own signals
        pass


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app at http://127.0.0.1:PORT until the block ends."""
    port = free_port()
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                    log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
