"""The password rules of the baseline (identity): ≥ 8 characters, ≥ 3 of 4 classes, not
the user name, argon2id hashes."""

from __future__ import annotations

import pytest

from cloud.identity import security
from cloud.identity.errors import WeakPassword


@pytest.mark.parametrize(("password", "problem"), [
    ("Ab#4567", "长度至少 8 位"),
    ("abcdefg1", "至少 3 类"),
    ("ABCDEFG#", "至少 3 类"),
    ("12345678#", "至少 3 类"),
    ("Wang.Lei#2026", "不能包含用户名"),
    ("x" * 121 + "Ab#45678", "不能超过 128 位"),
])
def test_a_password_breaking_a_rule_is_refused_with_that_rule(password: str, problem: str
                                                               ) -> None:
    with pytest.raises(WeakPassword) as refused:
        security.check_password_policy(password, username="wang.lei")
    assert any(problem in p for p in refused.value.extra["problems"])


@pytest.mark.parametrize("password", ["abcdef1#", "ABCDEF1a", "Abcdefg#", "安场Ab#12345"])
def test_three_classes_and_eight_characters_pass(password: str) -> None:
    security.check_password_policy(password, username="wang.lei")


def test_production_hashes_use_rfc_9106s_low_memory_profile() -> None:
    # The suite hashes with a cheap profile (tests/conftest.py); production must not.
    hashed = security.PRODUCTION_HASHER.hash("Anchang#2026")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    cheap = security.hash_password("Anchang#2026")
    assert security.PRODUCTION_HASHER.check_needs_rehash(cheap)  # upgraded at sign-in


def test_hashes_are_argon2id_and_salted() -> None:
    first, second = security.hash_password("Anchang#2026"), security.hash_password("Anchang#2026")
    assert first.startswith("$argon2id$") and first != second
    assert security.verify_password(first, "Anchang#2026")
    assert not security.verify_password(first, "Anchang#2027")
