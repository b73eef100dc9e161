"""The bare ceiling of an authenticated read: FastAPI + SQLAlchemy + psycopg2, one indexed
PostgreSQL read, no authentication, no middleware — the same stack the API runs on,
served the same way (uvicorn, same worker count, same pool size)."""

from __future__ import annotations

import os

from fastapi import FastAPI
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["ANCHANG_BENCH_DATABASE_URL"],
                       pool_size=int(os.environ.get("ANCHANG_BENCH_POOL_SIZE", "20")),
                       max_overflow=4)
app = FastAPI()
_READ = text("SELECT id, phone_masked, visit_count FROM customer WHERE id = :id")


@app.get("/bare/customers/{customer_id}")
def read(customer_id: int) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(_READ, {"id": customer_id}).one()
    return {"id": row.id, "phone_masked": row.phone_masked, "visit_count": row.visit_count}
