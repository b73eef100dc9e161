"""The sync protocol's conformance suite: docs/sync-protocol.md, checked over MQTT.

Every test names the section of the spec it checks. Messages are built and signed by
tests/conformance/wire.py, written from the spec alone — never by shared/envelope.py or
the edge agent — and every answer the cloud sends is checked field by field against §4
(`wire.check_ack`, `wire.check_down_batch`).

Running it
----------
Against this repository's cloud (the default; needs PostgreSQL and the `mosquitto`
binary, like tests/integration):

    .venv/bin/pytest tests/conformance -m integration

The suite starts one Mosquitto (configured by `cloud.sync.credentials.mosquitto_conf`,
as operators run it) and one `SyncConsumer` on a fresh PostgreSQL database for the whole
package, with `ANCHANG_CLOUD_SYNC_GAP_ALARM_SECONDS=5`; every test gets sites of its own.

Against another implementation: write a class that satisfies `tests.conformance.target.
Target` (a broker address, a way to make sites with credentials, the operator's commands,
the console's alarms and the record of refused messages — see that module), and name a
callable returning it:

    ANCHANG_CONFORMANCE_TARGET=my_package.conformance:make_target \
        pytest tests/conformance -m integration

The callable is called once, without arguments; `close()` is called at the end. Then
neither PostgreSQL nor this repository's cloud is touched. Tests marked xfail are places
where this repository's cloud is known to break the spec: another implementation may
pass them, and must: those marks apply to the default target only
(`target.reference_violation`).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator

import pytest

from tests.conformance.client import Edge
from tests.conformance.target import TARGET_ENV, AnchangTarget, SiteAccess, Target


@pytest.fixture(scope="package")
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Target]:
    named = os.environ.get(TARGET_ENV)
    if named:
        module, _, attribute = named.partition(":")
        made: Target = getattr(importlib.import_module(module), attribute)()
    else:
        made = AnchangTarget(request.getfixturevalue("engine"),
                             request.getfixturevalue("settings"),
                             tmp_path_factory.mktemp("conformance-broker"))
    yield made
    made.close()


@pytest.fixture
def site(target: Target) -> SiteAccess:
    return target.new_site()


@pytest.fixture
def other_site(target: Target) -> SiteAccess:
    return target.new_site()


@pytest.fixture
def connect(target: Target) -> Iterator[Callable[..., Edge]]:
    """Open a client with a site's credentials (closed after the test)."""
    opened: list[Edge] = []

    def make(access: SiteAccess, **kw: object) -> Edge:
        edge = Edge(target.mqtt_host, target.mqtt_port, access.mqtt_username,
                    access.mqtt_password, access.site_id, access.key, **kw)  # type: ignore[arg-type]
        opened.append(edge)
        return edge

    yield make
    for edge in opened:
        edge.close()


@pytest.fixture
def edge(connect: Callable[..., Edge], site: SiteAccess) -> Edge:
    return connect(site)
