"""``manage.py prepare_embedded``: create the embedded default's folders and key."""

from typing import Any

from django.core.management.base import BaseCommand

from portal.embedded import embedded_prepare


class Command(BaseCommand):
    help = (
        "Create the folders under var/ (database, broker, mail, media, static files) "
        "and the secret key file that the embedded default uses. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for path in embedded_prepare():
            self.stdout.write(f"created {path}")
