"""Import every domain's scheduled jobs so cloud.jobs.registry knows them."""

from cloud.audit import tasks as audit_tasks
from cloud.channel import tasks as channel_tasks
from cloud.deals import tasks as deal_tasks
from cloud.faces import tasks as face_tasks
from cloud.identity import tasks as identity_tasks
from cloud.inventory import tasks as inventory_tasks
from cloud.sales import tasks as sales_tasks
from cloud.sync import tasks as sync_tasks

__all__ = ["audit_tasks", "channel_tasks", "deal_tasks", "face_tasks", "identity_tasks",
           "inventory_tasks", "sales_tasks", "sync_tasks"]
