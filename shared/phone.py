"""Chinese mobile numbers: normalise, validate, mask.

The normalised form (11 ASCII digits, no prefix) is the customer key per project and the
input of every blind index, so cloud and edge must agree on it exactly. Every path that
takes a number from outside — kiosk, consultant follow-ups, cloud search, sync apply,
broker referrals — goes through normalise_phone: a second spelling of one number would
be a second customer, and whoever registered it would take the first one's customer.
"""

from __future__ import annotations

import re
import unicodedata

from shared.errors import ValidationFailed

# The normalised number, for schemas that check it (ASCII only: in pydantic's and many
# regex engines' Unicode mode `\d` also matches Arabic-Indic, Devanagari … digits).
MOBILE_PATTERN = r"^1[3-9][0-9]{9}$"

_SEPARATORS = re.compile(r"[\s\-()（）.]")
_MOBILE = re.compile(MOBILE_PATTERN)
_MASKED = re.compile(r"(1[3-9][0-9])\*{4}([0-9]{4})")
# Full-width digits and signs are what Chinese input methods type; they are the same
# characters to the user. Every other script's digits are refused rather than converted.
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


class InvalidPhone(ValidationFailed):
    code = "invalid_phone"
    title = "手机号码格式不正确，请输入11位中国大陆手机号"


def normalise_phone(raw: str) -> str:
    """Return the 11-digit mobile number or raise InvalidPhone.

    Accepts +86 / 0086 / 86 prefixes, spaces, dashes, dots and brackets, full-width digits;
    refuses digits of any other script (Arabic-Indic, Devanagari, circled, superscript …).
    """
    if not isinstance(raw, str) or len(raw) > 40:
        raise InvalidPhone()
    text = raw.strip().translate(_FULLWIDTH)
    if any(not ch.isascii() and unicodedata.category(ch) in ("Nd", "No", "Nl")
           for ch in text):
        raise InvalidPhone("手机号码只能使用阿拉伯数字 0–9")
    text = _SEPARATORS.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not _MOBILE.fullmatch(text):
        raise InvalidPhone()
    return text


def mask_phone(normalised: str) -> str:
    """138****5678 — the form shown to roles that may not see the number."""
    return f"{normalised[:3]}****{normalised[-4:]}"


# A mobile number written anywhere in a text, also after +86/0086 and with spaces or
# dashes between its groups; `_IN_TEXT` leaves one touching an ASCII letter or digit.
_NUMBER = r"(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})"
_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z]){_NUMBER}(?![0-9A-Za-z])")
_IN_TEXT_BESIDE_LETTERS = re.compile(rf"(?<!\d){_NUMBER}(?!\d)")


def mask_numbers_in(text: str, *, beside_letters: bool = False) -> str:
    """Every mobile number in `text` masked as 138****5678. A number touching an ASCII
    letter or digit is left as it is, so ids and hashes (UUIDs, hex) are never altered —
    the audit log keeps them exactly; `beside_letters` masks those too, for logs, where
    a number glued to a word ("phone13812345678") matters more than a hash's digits."""
    pattern = _IN_TEXT_BESIDE_LETTERS if beside_letters else _IN_TEXT
    return pattern.sub(r"\1****\2", text)


def masked_key(normalised_or_masked: str) -> str:
    """The 3+4 key a masked referral and a full number share: '1385678'."""
    m = _MASKED.fullmatch(normalised_or_masked)
    if m:
        return m.group(1) + m.group(2)
    return normalised_or_masked[:3] + normalised_or_masked[-4:]


def is_masked(text: str) -> bool:
    return _MASKED.fullmatch(text.strip()) is not None
