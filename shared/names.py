"""Personal names on screen: masked to the surname and a fixed tail, so the mask reveals
neither the given name nor its length (陈大文 and 陈文 both show as 陈**)."""

from __future__ import annotations

NAME_MASK_TAIL = "**"


def mask_name(name: str | None) -> str | None:
    text = (name or "").strip()
    return text[:1] + NAME_MASK_TAIL if text else None
