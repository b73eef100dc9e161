"""Inserting many rows of one table in one statement, inside the session's transaction.

SQLAlchemy's executemany ("insertmanyvalues") builds a bind parameter per value and a
statement naming them all; for the sync consumer's runs that client-side work cost more
than PostgreSQL spent storing the rows. On PostgreSQL the rows go through psycopg2's
execute_values instead: each value still passes its column type's bind processor (UTC
times, JSON), and a database error is raised as SQLAlchemy's (IntegrityError,
DataError), so callers handle both paths alike. Other databases use executemany.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg2
from psycopg2 import sql as pg
from psycopg2.extras import execute_values
from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from shared.dbtypes import table_of

PAGE_SIZE = 5000


def insert_rows(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]],
                *, returning: Sequence[str] = ()) -> list[tuple[Any, ...]]:
    """Insert `rows` (dicts with the same keys, every column given that has no database
    default); answers the `returning` columns of the inserted rows, in no set order (a
    caller matches them to its rows by a unique key)."""
    if not rows:
        return []
    table = table_of(model)
    if session.get_bind().dialect.name != "postgresql":
        statement = insert(table)
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
        result = session.execute(statement, rows)
        return [tuple(row) for row in result.all()] if returning else []
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    # Only the columns whose type has a bind processor are touched value by value: a
    # sync run inserts tens of thousands of values, most of them passed as they are.
    processors = [(i, process) for i, name in enumerate(names)
                  if (process := table.c[name].type.bind_processor(dialect)) is not None]
    values = [_processed([row[n] for n in names], processors) for row in rows]
    sql = pg.SQL("INSERT INTO {} ({}) VALUES %s{}").format(
        pg.Identifier(table.name), pg.SQL(", ").join(map(pg.Identifier, names)),
        pg.SQL(" RETURNING {}").format(pg.SQL(", ").join(map(pg.Identifier, returning)))
        if returning else pg.SQL(""))
    cursor = connection.connection.cursor()
    statement = sql.as_string(cursor)
    try:
        fetched = execute_values(cursor, statement, values, page_size=PAGE_SIZE,
                                 fetch=bool(returning))
    except psycopg2.Error as error:
        raise DBAPIError.instance(statement, None, error, psycopg2.Error) from error
    finally:
        cursor.close()
    return [tuple(row) for row in fetched] if returning else []


def _processed(values: list[Any], processors: Sequence[tuple[int, Callable[[Any], Any]]]
               ) -> list[Any]:
    for i, process in processors:
        values[i] = process(values[i])
    return values


def insert_if_absent(session: Session, row: SQLModel) -> bool:
    """Insert `row` unless one with its primary key exists (one INSERT … ON CONFLICT DO
    NOTHING, where a savepoint around a plain insert costs two more round trips and
    expires the session's objects); True when this call inserted it. The row object stays
    outside the session."""
    table = table_of(row)
    values = {column.name: getattr(row, column.name) for column in table.columns}
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))
    keys = [column.name for column in table.primary_key.columns]
    found = session.execute(statement.values(values)
                            .on_conflict_do_nothing(index_elements=keys)
                            .returning(*table.primary_key.columns))
    return found.first() is not None
