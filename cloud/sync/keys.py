"""A site's key (HMAC of its messages, edge tokens, its customer blind index), encrypted
at rest in its link row."""

from __future__ import annotations

from cloud.settings import CloudSettings
from cloud.sync.models import SiteLink
from shared.crypto import decode_key

KEY_CONTEXT = "site_link.key"


def site_key(settings: CloudSettings, link: SiteLink) -> bytes:
    return decode_key(settings.cipher.decrypt(link.key_enc, context=KEY_CONTEXT))


def seal_site_key(settings: CloudSettings, key_b64: str) -> str:
    return settings.cipher.encrypt(key_b64, context=KEY_CONTEXT)
