"""A registry the domains fill when they are imported (sync event types, scheduled
jobs): each names its items "<domain>.<what>"; the first lookup imports the module that
imports every domain, so nothing registered is missed whatever was imported before."""

from __future__ import annotations

import importlib
from typing import Generic, Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class Registry(Generic[T]):
    def __init__(self, kind: str, domains_module: str) -> None:
        self.kind = kind  # in the error of a name registered twice
        self.domains_module = domains_module
        self._items: dict[str, T] = {}

    def register(self, item: T) -> T:
        if item.name in self._items:
            raise ValueError(f"{self.kind} {item.name!r} is registered twice")
        self._items[item.name] = item
        return item

    def all(self) -> dict[str, T]:
        importlib.import_module(self.domains_module)
        return self._items
