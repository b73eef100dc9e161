"""Import every domain's up-stream event types so cloud.sync.handlers knows them."""

from cloud.cameras import health_events as camera_health_events
from cloud.cameras import sync_events as camera_events
from cloud.channel import feed_items as channel_feed_items
from cloud.channel import manual_guides as channel_manual_guides
from cloud.channel import sync_events as channel_events
from cloud.faces import settings as face_settings
from cloud.faces import sync_events as face_events
from cloud.reception import sync_events as reception_events
from cloud.sales import lookup_events as sales_lookup_events
from cloud.sales import sync_events as sales_events

__all__ = ["camera_events", "camera_health_events", "channel_events", "channel_feed_items",
           "channel_manual_guides", "face_events", "face_settings", "reception_events",
           "sales_events", "sales_lookup_events"]
