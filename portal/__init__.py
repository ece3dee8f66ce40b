"""The portal project: settings, the Celery app, users, teams, entitlements and audit."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
