"""SMS codes (短信验证码): six digits, kept only as a keyed hash, valid five minutes, void
after five wrong tries, used once. Sending is limited per number (a cooldown and a daily
cap) and per source address, so nobody can use us to flood a phone or run up the bill.
Refusals of the limits are logged, not audited: a flood must not grow the audit chain."""

from __future__ import annotations

import hmac
import secrets

import structlog

from cloud.channel.signin.errors import SmsCooldown
from cloud.channel.signin.sms import SmsSender
from cloud.channel.signin.store import Store, unavailable_on_error
from cloud.settings import CloudSettings

log = structlog.get_logger()

DAY = 86400
HOUR = 3600


class SmsCodes:
    def __init__(self, store: Store, sender: SmsSender, settings: CloudSettings) -> None:
        self.store = store
        self.sender = sender
        self.settings = settings

    def send(self, phone: str, source: str | None) -> int:
        """Send a new code to the normalised `phone`; the cooldown in seconds."""
        s = self.settings
        key = self._key(phone)
        src = source or "-"
        with unavailable_on_error():
            if not self.store.claim(f"cool:{key}", s.sms_cooldown_seconds):
                log.info("sms_refused", reason="cooldown")
                raise SmsCooldown(retry_after=max(self.store.ttl(f"cool:{key}"), 1))
            if self.store.incr(f"ip:{src}", HOUR) > s.sms_ip_limit:
                log.warning("sms_refused", reason="source_rate", source=src)
                raise SmsCooldown(retry_after=max(self.store.ttl(f"ip:{src}"), 1))
            if self.store.incr(f"day:{key}", DAY) > s.sms_phone_daily_limit:
                log.warning("sms_refused", reason="daily_limit")
                raise SmsCooldown("该号码今日获取验证码次数已达上限，请明天再试",
                                  retry_after=max(self.store.ttl(f"day:{key}"), 1))
            code = f"{secrets.randbelow(10**6):06d}"
            self.store.put(f"code:{key}", self._hash(phone, code), s.sms_code_ttl_seconds)
            self.store.take(f"tries:{key}")
        try:
            self.sender.send_code(phone, code)
        except Exception:
            with unavailable_on_error():  # not sent: the person may ask again at once
                self.store.take(f"code:{key}")
                self.store.take(f"cool:{key}")
            raise
        return s.sms_cooldown_seconds

    def check(self, phone: str, code: str) -> bool:
        """True once for the right code; a wrong try counts, the last one voids it."""
        key = self._key(phone)
        with unavailable_on_error():
            stored = self.store.get(f"code:{key}")
            if stored is None:
                return False
            tries = self.store.incr(f"tries:{key}", self.settings.sms_code_ttl_seconds)
            if tries > self.settings.sms_code_attempts:
                self.store.take(f"code:{key}")
                return False
            if not hmac.compare_digest(stored, self._hash(phone, code)):
                if tries == self.settings.sms_code_attempts:
                    self.store.take(f"code:{key}")
                return False
            # Two requests with the right code at once: only the one that deletes it wins.
            return self.store.take(f"code:{key}")

    def _key(self, phone: str) -> str:
        # The number's blind index: Redis never holds the number itself.
        return self.settings.blind_index.phone(phone)

    def _hash(self, phone: str, code: str) -> str:
        return self.settings.blind_index.of("sms_code", f"{phone}:{code}")
