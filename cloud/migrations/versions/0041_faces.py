"""faces: site settings, sightings, gallery entries, consents, erasures, the counter

The cloud half of faces (issue #23, items 6–7, ADR 0048): ids, times and counts only —
never an image or a template. Risk cases may be about a site and day rather than a
referral (visits never registered at reception): `channel_risk_case.referral_id` and
`broker_id` become nullable and `subject_key` names such a case.

Revision ID: 0041_faces
Revises: 0040_deal_settings
Create Date: 2026-11-28
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041_faces"
down_revision: str | None = "0040_deal_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "site_face_setting",
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("signage_text", sa.String(500), nullable=True),
        sa.Column("capture_area", sa.String(300), nullable=True),
        sa.Column("notice_version", sa.String(32), nullable=True),
        sa.Column("crop_retention_days", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        _utc("changed_at"),
    )
    op.create_table(
        "face_person",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("person_ref", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        _utc("first_seen_at", True), _utc("last_seen_at", True), _utc("erased_at", True),
        sa.Column("erased_reason", sa.String(16), nullable=True),
        _utc("updated_at"),
        sa.UniqueConstraint("site_id", "person_ref", name="uq_face_person_ref"),
    )
    op.create_index("ix_face_person_customer_id", "face_person", ["customer_id"])
    op.create_index("ix_face_person_live", "face_person", ["erased_at", "customer_id"])
    op.create_index("ix_face_person_updated_at", "face_person", ["updated_at"])
    op.create_table(
        "face_sighting",
        sa.Column("sighting_id", sa.String(36), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("camera_id", sa.String(36), nullable=False),
        sa.Column("person_ref", sa.String(36), nullable=False),
        sa.Column("subject", sa.String(8), nullable=False),
        _utc("first_seen_at"), _utc("last_seen_at"),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        _utc("received_at"),
        sa.CheckConstraint("subject IN ('customer', 'visitor')",
                           name="ck_face_sighting_subject"),
    )
    op.create_index("ix_face_sighting_person", "face_sighting",
                    ["site_id", "person_ref", "first_seen_at"])
    op.create_index("ix_face_sighting_site_first", "face_sighting", ["site_id", "first_seen_at"])
    op.create_index("ix_face_sighting_received_at", "face_sighting", ["received_at"])
    op.create_table(
        "face_consent",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("person_ref", sa.String(36), nullable=False),
        sa.Column("visit_id", sa.String(36), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=True),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("notice_version", sa.String(32), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        _utc("recorded_at"), _utc("received_at"),
        sa.UniqueConstraint("site_id", "person_ref", "recorded_at", "granted",
                            name="uq_face_consent_event"),
        sa.CheckConstraint("method IN ('kiosk_screen', 'staff_confirmed')",
                           name="ck_face_consent_method"),
    )
    op.create_index("ix_face_consent_person_ref", "face_consent", ["person_ref"])
    op.create_index("ix_face_consent_customer_id", "face_consent", ["customer_id"])
    op.create_table(
        "face_erasure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("subject_request_id", sa.Integer(), sa.ForeignKey("subject_request.id"),
                  nullable=False),
        sa.Column("site_id", sa.String(32), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("person_ref", sa.String(36), nullable=False),
        _utc("sent_at"), _utc("due_at"), _utc("erased_at", True),
        sa.UniqueConstraint("request_id", "person_ref", name="uq_face_erasure_ref"),
    )
    op.create_index("ix_face_erasure_request_id", "face_erasure", ["request_id"])
    op.create_index("ix_face_erasure_subject_request_id", "face_erasure",
                    ["subject_request_id"])
    op.create_table(
        "face_counter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("persons", sa.Integer(), nullable=False),
        _utc("counted_at"), _utc("warning_since", True), _utc("filing_since", True),
    )
    with op.batch_alter_table("channel_risk_case") as batch:
        batch.alter_column("referral_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("broker_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("subject_key", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_channel_risk_case_subject",
                                       ["subject_key", "check_code"])


def downgrade() -> None:
    op.execute("DELETE FROM channel_risk_case WHERE referral_id IS NULL")
    with op.batch_alter_table("channel_risk_case") as batch:
        batch.drop_constraint("uq_channel_risk_case_subject", type_="unique")
        batch.drop_column("subject_key")
        batch.alter_column("broker_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("referral_id", existing_type=sa.Integer(), nullable=False)
    for table in ("face_counter", "face_erasure", "face_consent", "face_sighting",
                  "face_person", "site_face_setting"):
        op.drop_table(table)
