"""sales: visits counted per site, project, Beijing day and kind, kept by triggers, so
the visit list's exact total stops counting a million rows on every page (issue #24)

Revision ID: 0032_visit_day_count
Revises: 0030_cameras
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_visit_day_count"
down_revision: str | None = "0030_cameras"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = "site_id, project_id, visit_date, is_first_visit"

# PostgreSQL: statement triggers over the transition tables, so a batch of 200 synced
# visits is one grouped upsert, not 200. An UPDATE nets old against new rows: one that
# changes no key column (an erasure blanking the intent) writes nothing.
_PG_FUNCTION = f"""
CREATE FUNCTION visit_day_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO visit_day_count ({_KEY}, visits)
        SELECT {_KEY}, count(*) FROM new_rows GROUP BY {_KEY}
        ON CONFLICT ({_KEY}) DO UPDATE SET visits = visit_day_count.visits + EXCLUDED.visits;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE visit_day_count d SET visits = d.visits - g.n
        FROM (SELECT {_KEY}, count(*) AS n FROM old_rows GROUP BY {_KEY}) g
        WHERE (d.site_id, d.project_id, d.visit_date, d.is_first_visit)
            = (g.site_id, g.project_id, g.visit_date, g.is_first_visit);
    ELSE
        INSERT INTO visit_day_count ({_KEY}, visits)
        SELECT {_KEY}, sum(n) FROM (
            SELECT {_KEY}, -1 AS n FROM old_rows
            UNION ALL SELECT {_KEY}, 1 FROM new_rows) AS moved
        GROUP BY {_KEY} HAVING sum(n) <> 0
        ON CONFLICT ({_KEY}) DO UPDATE SET visits = visit_day_count.visits + EXCLUDED.visits;
    END IF;
    RETURN NULL;
END $$
"""
_PG_TRIGGERS = (
    ("visit_day_count_ins", "INSERT", "NEW TABLE AS new_rows"),
    ("visit_day_count_upd", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("visit_day_count_del", "DELETE", "OLD TABLE AS old_rows"),
)

# SQLite (the demo): row triggers; an update trigger fires only when a key column is set.
_SQLITE_ADD = (f"INSERT INTO visit_day_count ({_KEY}, visits) "
               "VALUES (NEW.site_id, NEW.project_id, NEW.visit_date, NEW.is_first_visit, 1) "
               f"ON CONFLICT ({_KEY}) DO UPDATE SET visits = visits + 1;")
_SQLITE_REMOVE = ("UPDATE visit_day_count SET visits = visits - 1 WHERE site_id = OLD.site_id "
                  "AND project_id = OLD.project_id AND visit_date = OLD.visit_date "
                  "AND is_first_visit = OLD.is_first_visit;")
_SQLITE_TRIGGERS = (
    ("visit_day_count_ins", "AFTER INSERT", _SQLITE_ADD),
    ("visit_day_count_upd", f"AFTER UPDATE OF {_KEY}", _SQLITE_REMOVE + " " + _SQLITE_ADD),
    ("visit_day_count_del", "AFTER DELETE", _SQLITE_REMOVE),
)


def upgrade() -> None:
    op.create_table(
        "visit_day_count",
        sa.Column("site_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("is_first_visit", sa.Boolean(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "project_id", "visit_date", "is_first_visit"),
    )
    op.execute(f"INSERT INTO visit_day_count ({_KEY}, visits) "
               f"SELECT {_KEY}, count(*) FROM visit GROUP BY {_KEY}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for name, when, tables in _PG_TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {when} ON visit REFERENCING {tables} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION visit_day_count_apply()")
    else:
        for name, when, body in _SQLITE_TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} {when} ON visit BEGIN {body} END")


def downgrade() -> None:
    for name, _, _ in _PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON visit"
                   if op.get_bind().dialect.name == "postgresql"
                   else f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION visit_day_count_apply()")
    op.drop_table("visit_day_count")
