"""Import every domain's up-stream event types so cloud.sync.handlers knows them."""

from cloud.sales import lookup_events as sales_lookup_events
from cloud.sales import sync_events as sales_events

__all__ = ["sales_events", "sales_lookup_events"]
