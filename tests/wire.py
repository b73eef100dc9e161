"""The identity a test's messages carry when the test is not about identity: one store
(epoch) and one running agent (instance) per site."""

from __future__ import annotations

import uuid

EPOCH = uuid.UUID("0e0c0000-0000-4000-8000-000000000001")
INSTANCE = uuid.UUID("1a5a0000-0000-4000-8000-000000000001")
