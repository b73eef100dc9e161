"""Who is calling: the authenticated user with the roles, permissions and sites loaded for
this request. Re-exported by cloud.identity.deps, where other domains import it from."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    roles: frozenset[str]
    permissions: frozenset[str]
    site_ids: frozenset[str] | None  # None = all sites (scope_all)
    ip: str | None
    # The login session behind the access token; None for principals built outside a
    # request (CLI, background jobs).
    session_id: str | None = field(default=None, compare=False)
    # The password must be changed (first login, reset, expiry) before anything but the
    # self-service routes; computed when the token is checked.
    password_change_due: bool = field(default=False, compare=False)

    def can(self, perm: str) -> bool:
        return perm in self.permissions

    def sees_site(self, site_id: str) -> bool:
        return self.site_ids is None or site_id in self.site_ids
