"""The Celery app: named queues, the database beat scheduler, settings that do not lose work.

Queues: ``analytics``, ``compliance``, ``reports``, ``delivery`` (plus ``default``).
Routing is by task name prefix (``settings.CELERY_TASK_ROUTES``). ``acks_late`` with
``reject_on_worker_lost`` and a prefetch of one mean a task whose worker dies is
redelivered rather than lost; tasks are therefore written to be safe twice.
"""

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
QUEUE_NAMES = ("default", "analytics", "compliance", "reports", "delivery")
# A worker started without -Q consumes every one of these. Each queue has its own
# exchange and routing key: queues left to Celery's defaults would all bind to the
# "default" key and every message would land in every queue.
app.conf.task_queues = [Queue(name, Exchange(name), routing_key=name) for name in QUEUE_NAMES]
app.autodiscover_tasks()
