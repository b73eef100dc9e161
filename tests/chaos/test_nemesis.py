"""Every link fault a schedule can draw is put in force and healed on the proxy."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import cast

from tests.chaos.nemesis import Nemesis
from tests.chaos.proxy import ChaosProxy, LinkFaults
from tests.chaos.schedule import PROXY_KINDS, Fault, Schedule, _params
from tests.chaos.stack import Stack


def test_each_link_fault_is_inflicted_and_cleared() -> None:
    with ChaosProxy(upstream_port=9, seed=1) as proxy:  # no connection is ever made
        stack = cast(Stack, SimpleNamespace(proxy=proxy))
        nemesis = Nemesis(stack, Schedule(1, ()))
        rng = random.Random(1)
        for kind in sorted(PROXY_KINDS):
            fault = Fault(0.0, kind, 0.0, _params(kind, rng))
            note = nemesis._on_link(fault, started=0.0)
            assert note in ("", "0 connection(s) reset", "armed on 0 connection(s)"), kind
            assert proxy.faults == {"up": LinkFaults(), "down": LinkFaults()}, kind
