"""Realistic volumes, seeded set-based in PostgreSQL (generate_series; a million visits in
seconds, not the hours a row-at-a-time seed would take).

Customers are spread over the given projects and owned round-robin by the given
consultants; each customer's visits fall on different days (the one-visit-a-day rule);
the newest visit is about now and the oldest about a year ago. Phones are not real
numbers: their blind indexes are digests no real number produces, so a search for a real
number finds nothing seeded, as it should; their one ciphertext is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cloud.identity import service as identity_service
from cloud.settings import CloudSettings
from tests.cloud import PASSWORD
from tests.cloud.channel_world import add_agency, attach_broker
from tests.integration.conftest import ProvisionedSite

YEAR_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class SeedSite:
    site_id: str
    project_id: int
    consultant_ids: tuple[int, ...]


def consultants(session: Session, sites: list[ProvisionedSite], *, per_site: int,
                prefix: str) -> list[SeedSite]:
    """`per_site` consultant accounts on each site (`<prefix><i>.<site>`, the tests'
    password), uncommitted; the sites with their consultants' ids, for `seed`."""
    seeds = []
    for site in sites:
        ids = []
        for i in range(per_site):
            user = identity_service.create_user(
                session, username=f"{prefix}{i}.{site.site_id}", password=PASSWORD,
                display_name=f"顾问{i}", roles=["consultant"], site_ids=[site.site_id],
                must_change_password=False, actor="bench")
            assert user.id is not None
            ids.append(user.id)
        seeds.append(SeedSite(site.site_id, site.project_id, tuple(ids)))
    return seeds


def seed(engine: Engine, sites: list[SeedSite], *, customers: int, visits: int,
         follow_ups: int, phone_enc: str, note_enc: str | None = None) -> None:
    """`phone_enc`: one ciphertext every seeded customer carries (a write that announces
    a customer to the down-feed decrypts it); `note_enc`: every follow-up's note."""
    projects = [s.project_id for s in sites]
    site_of = [s.site_id for s in sites]
    # Consultant of customer g: one of its site's consultants, round-robin.
    owners = [list(s.consultant_ids) for s in sites]
    width = max(len(o) for o in owners)
    owner_matrix = [o * (width // len(o)) + o[: width % len(o)] for o in owners]
    step = max(1, YEAR_SECONDS // max(visits, 1))
    params = {"projects": projects, "sites": site_of, "n_sites": len(sites),
              "width": width, "owners": list(chain.from_iterable(owner_matrix)),
              "customers": customers, "visits": visits, "follow_ups": follow_ups, "step": step,
              "phone_enc": phone_enc, "note_enc": note_enc}
    with engine.begin() as conn:
        base = conn.execute(text("SELECT coalesce(max(id), 0) FROM customer")).scalar_one()
        params["base"] = base
        conn.execute(text("""
            INSERT INTO customer (id, project_id, phone_enc, phone_bidx, phone34_bidx,
                phone_masked, name_enc, owner_id, status, visit_count, first_visit_at,
                last_visit_at, protection_until, last_effective_at, created_at)
            SELECT :base + g,
                   (CAST(:projects AS int[]))[1 + g % :n_sites],
                   :phone_enc, md5('phone' || g), md5('p34' || (g % 50000)),
                   '138****' || lpad(CAST(g % 10000 AS text), 4, '0'), NULL,
                   (CAST(:owners AS int[]))[1 + (g % :n_sites) * :width + (g / :n_sites) % :width],
                   'visited', 0, now() - interval '1 year', now(), now() + interval '30 days',
                   NULL, now() - interval '1 year'
            FROM generate_series(1, :customers) AS g
        """), params)
        conn.execute(text("SELECT setval(pg_get_serial_sequence('customer', 'id'), "
                          "(SELECT max(id) FROM customer))"))
        conn.execute(text("""
            INSERT INTO visit (id, site_id, project_id, customer_id, consultant_id,
                party_size, intent_enc, source, is_first_visit, visit_date, occurred_at,
                edge_occurred_at, time_corrected, event_seq, created_at)
            SELECT md5('visit' || g), c.site, c.project_id, c.id, c.owner_id,
                   1 + g % 4, NULL, 'kiosk', g <= :customers,
                   CAST((at AT TIME ZONE 'Asia/Shanghai') AS date), at, at, false, g, at
            FROM generate_series(1, :visits) AS g,
                 LATERAL (SELECT now() - make_interval(secs => g * :step) AS at) AS t,
                 LATERAL (SELECT cu.id, cu.project_id, cu.owner_id,
                                 (CAST(:sites AS text[]))[1 + (g % :customers + 1) % :n_sites]
                                     AS site
                          FROM customer cu WHERE cu.id = :base + g % :customers + 1) AS c
        """), params)
        conn.execute(text("""
            INSERT INTO follow_up (id, site_id, project_id, customer_id, visit_id,
                consultant_id, kind, reached, effective, note_enc, next_at, occurred_at,
                recorded_via, event_seq, created_at)
            SELECT md5('follow' || g), c.site, c.project_id, c.id, NULL, c.owner_id, 'call',
                   g % 3 > 0, g % 3 > 0, CAST(:note_enc AS text), NULL,
                   now() - make_interval(secs => g * :step), 'cloud', NULL, now()
            FROM generate_series(1, :follow_ups) AS g,
                 LATERAL (SELECT cu.id, cu.project_id, cu.owner_id,
                                 (CAST(:sites AS text[]))[1 + (g % :customers + 1) % :n_sites]
                                     AS site
                          FROM customer cu WHERE cu.id = :base + g % :customers + 1) AS c
        """), params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # VACUUM too: the visibility map lets the counts read the indexes alone.
        for table in ("customer", "visit", "follow_up"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))


FLOORS, PER_FLOOR = 25, 4  # a 100-unit tower


def seed_units(engine: Engine, project_ids: list[int], *, units: int, released_by: int) -> None:
    """`units` spread evenly over the projects, in 100-unit towers (25 floors of 4), one
    release batch per project: 5 % unreleased, then 待售, 认购 and 签约 in turn, as a
    project some way into its sales looks."""
    per_project = max(units // len(project_ids), 1)
    towers = -(-per_project // (FLOORS * PER_FLOOR))
    params = {"projects": project_ids, "towers": towers, "per_project": per_project,
              "released_by": released_by, "per_tower": FLOORS * PER_FLOOR,
              "per_floor": PER_FLOOR}
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO building (project_id, name, created_at)
            SELECT p, t || '号楼', now()
            FROM unnest(CAST(:projects AS int[])) AS p, generate_series(1, :towers) AS t
        """), params)
        conn.execute(text("""
            INSERT INTO release_batch (project_id, name, kind, unit_count, released_by,
                                       released_at)
            SELECT p, '首开', 'first_opening', :per_project, :released_by, now()
            FROM unnest(CAST(:projects AS int[])) AS p
        """), params)
        conn.execute(text("""
            INSERT INTO unit (project_id, building_id, floor, room, layout, area_centi,
                list_price_fen, floor_price_fen, state, batch_id, hold_until,
                control_reason, updated_at)
            SELECT b.project_id, b.id, 1 + i / :per_floor,
                   (1 + i / :per_floor) || lpad(CAST(1 + i % :per_floor AS text), 2, '0'),
                   '三室两厅', 8900 + i % 4 * 1500, 300000000 + i * 100000,
                   280000000 + i * 100000,
                   CASE WHEN n % 20 = 0 THEN 'unreleased' WHEN n % 4 = 1 THEN 'subscribed'
                        WHEN n % 4 = 2 THEN 'signed' ELSE 'available' END,
                   CASE WHEN n % 20 = 0 THEN NULL ELSE r.id END, NULL, '', now()
            FROM building b
            JOIN release_batch r ON r.project_id = b.project_id
            CROSS JOIN LATERAL generate_series(0, :per_tower - 1) AS i
            CROSS JOIN LATERAL (SELECT CAST(split_part(b.name, '号', 1) AS int) AS t) AS k
            CROSS JOIN LATERAL (SELECT (k.t - 1) * :per_tower + i AS n) AS m
            WHERE b.project_id = ANY(CAST(:projects AS int[])) AND m.n < :per_project
        """), params)
        conn.execute(text("""
            INSERT INTO inventory_project (project_id, version, colours, reserve_max_days,
                                           pledge_unreleased)
            SELECT p, 1, CAST('{}' AS json), 3, false FROM unnest(CAST(:projects AS int[])) AS p
            ON CONFLICT (project_id) DO UPDATE SET version = inventory_project.version + 1
        """), params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE unit"))


def seed_brokers(engine: Engine, settings: CloudSettings, count: int) -> list[str]:
    """`count` active brokers of one agency (`broker<i>`, the tests' password), made by a
    channel manager of every site; their usernames."""
    names = []
    with Session(engine, expire_on_commit=False) as session:
        manager = identity_service.create_user(
            session, username="bench-cm", password=PASSWORD, display_name="渠道经理",
            roles=["channel_manager"], site_ids=[], scope_all=True,
            must_change_password=False, actor="bench")
        session.commit()
        assert manager.id is not None
        agency = add_agency(session, "压测渠道", created_by=manager.id)
        for i in range(count):
            user = identity_service.create_user(
                session, username=f"broker{i}", password=PASSWORD, display_name=f"经纪人{i}",
                roles=["broker"], site_ids=[], must_change_password=False, actor="bench")
            session.commit()
            assert user.id is not None
            attach_broker(session, settings, user.id, agency=agency, phone=f"136{i:08d}")
            names.append(f"broker{i}")
    return names


def mark_real_numbers(engine: Engine, settings: CloudSettings, count: int) -> None:
    """The first `count` seeded customers get the blind indexes of real numbers
    (139 + eight digits), so a referral of one of them meets a customer in protection."""
    index = settings.blind_index
    rows = [{"n": n + 1, "b": index.phone(f"139{n:08d}"),
             "b34": index.phone_masked(f"139{n:08d}")} for n in range(count)]
    with engine.begin() as conn:
        first = conn.execute(text("SELECT min(id) FROM customer")).scalar_one()
        conn.execute(text("UPDATE customer SET phone_bidx = :b, phone34_bidx = :b34 "
                          f"WHERE id = {int(first) - 1} + :n"), rows)
