"""Free text about a person (a visit's intent, a follow-up's note) is personal data: it is
stored encrypted like phones and names, and read back only to be shown."""

from __future__ import annotations

from typing import Protocol

from cloud.settings import CloudSettings

INTENT_CONTEXT = "visit.intent"
NOTE_CONTEXT = "follow_up.note"


class _HasIntent(Protocol):
    intent_enc: str | None


class _HasNote(Protocol):
    note_enc: str | None


def seal(settings: CloudSettings, text: str | None, *, context: str) -> str | None:
    """Ciphertext, or None for no text (an empty note is no note)."""
    return settings.cipher.encrypt(text, context=context) if text else None


def intent_of(settings: CloudSettings, visit: _HasIntent) -> str | None:
    if visit.intent_enc is None:
        return None
    return settings.cipher.decrypt(visit.intent_enc, context=INTENT_CONTEXT)


def note_of(settings: CloudSettings, follow_up: _HasNote) -> str:
    if follow_up.note_enc is None:
        return ""
    return settings.cipher.decrypt(follow_up.note_enc, context=NOTE_CONTEXT)
