"""Entry point of `celery -A cloud.jobs.worker worker` and `… beat`: settings come from
the environment (ANCHANG_CLOUD_*), as for the API."""

from cloud.jobs.celery_app import create_celery
from cloud.settings import CloudSettings

app = create_celery(CloudSettings())
