"""Bare ceilings: FastAPI + SQLAlchemy + psycopg2 without authentication or middleware —
the same stack the API runs on, served the same way (uvicorn, same worker count, same
pool size). An authenticated read's: one indexed PostgreSQL read. A referral's: one
indexed look-up and one insert."""

from __future__ import annotations

import hashlib
import hmac
import os

from fastapi import FastAPI
from pydantic import BaseModel
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


class _ReferralIn(BaseModel):
    project_id: int
    phone: str


_LOOKUP = text("SELECT id FROM customer WHERE phone_bidx = :b AND project_id = :p")
_INSERT = text("INSERT INTO bench_bare_referral (project_id, phone_bidx, customer_id) "
               "VALUES (:p, :b, :c) RETURNING id")
_KEY = os.environ.get("ANCHANG_BENCH_BIDX_KEY", "bench").encode()


@app.post("/bare/referrals", status_code=201)
def refer(body: _ReferralIn) -> dict[str, object]:
    """A referral's irreducible work: the number's blind index, one indexed look-up of the
    customer, one insert — in one transaction."""
    bidx = hmac.new(_KEY, body.phone.encode(), hashlib.sha256).hexdigest()
    with engine.begin() as conn:
        customer = conn.execute(_LOOKUP, {"b": bidx, "p": body.project_id}).scalar()
        new_id = conn.execute(_INSERT, {"p": body.project_id, "b": bidx,
                                        "c": customer}).scalar_one()
    return {"id": new_id, "customer_id": customer}
