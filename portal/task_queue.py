"""Sending Celery tasks by name, so a service never imports the module of its tasks.

A ``tasks`` module imports the services it calls; a service that queues work sends
the task by its registered name instead, so the two never import each other. Each
app's ``AppConfig.ready`` imports its ``tasks`` module, so every task is registered
in every process (web, worker, shell) before the first send, and eager mode
(``CELERY_TASK_ALWAYS_EAGER``) runs a task sent this way in-process.
"""

from typing import Any

from celery import current_app
from django.db import transaction


def task_send(name: str, *args: Any) -> None:
    """Queue the task registered as ``name`` now (the caller has nothing to commit)."""
    current_app.signature(name, args=args).delay()


def task_send_on_commit(name: str, *args: Any) -> None:
    """Queue the task registered as ``name`` once the current transaction commits,
    so the worker finds the rows it is sent for (``Task.delay_on_commit`` by name)."""
    signature = current_app.signature(name, args=args)
    transaction.on_commit(signature.delay)
