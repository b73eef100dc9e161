"""Keeping a service's start-up objects out of the garbage collector's sight.

A served process builds hundreds of thousands of objects at start-up (routes, models,
SQLAlchemy metadata, pydantic validators) that live as long as it does. Each full
collection walks all of them: about half a second for the cloud API here (issue #24), a
pause taken by whichever request triggers it, and over a second in the sync consumer's
apply (issue #18). Frozen, they are skipped; what requests allocate is collected as
before.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Call once the process has built what it serves with, before serving."""
    gc.collect()
    gc.freeze()
