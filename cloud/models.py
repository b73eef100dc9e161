"""Import every domain's tables so SQLModel.metadata is complete (Alembic, tests)."""

from cloud.audit import models as audit_models
from cloud.cameras import models as camera_models
from cloud.catalog import models as catalog_models
from cloud.channel import (
    appeal_models,
    lead_models,
    prospecting_models,
    risk_models,
    saved_query_models,
)
from cloud.channel import listing_models as channel_listing_models
from cloud.channel import models as channel_models
from cloud.channel.signin import models as signin_models
from cloud.deals import models as deal_models
from cloud.faces import models as face_models
from cloud.identity import models as identity_models
from cloud.inventory import models as inventory_models
from cloud.privacy import models as privacy_models
from cloud.reception import models as reception_models
from cloud.sales import models as sales_models
from cloud.sales import ownership_models
from cloud.sync import models as sync_models

__all__ = ["appeal_models", "audit_models", "camera_models", "catalog_models",
           "channel_listing_models", "channel_models", "deal_models", "face_models",
           "identity_models", "inventory_models", "lead_models", "ownership_models",
           "privacy_models", "prospecting_models", "reception_models", "risk_models",
           "sales_models", "saved_query_models", "signin_models", "sync_models"]
