"""``manage.py prepare_embedded``: create the embedded default's folders and key."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from portal.embedded import embedded_prepare, static_files_collect


class Command(BaseCommand):
    help = (
        "Create the folders under var/ (database, broker, mail, media, static files) "
        "and the secret key file that the embedded default uses. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--static",
            action="store_true",
            help="also run collectstatic when a static file changed since the last collection",
        )

    def handle(self, *args: Any, static: bool, **options: Any) -> None:
        for path in embedded_prepare():
            self.stdout.write(f"created {path}")
        if static and static_files_collect():
            self.stdout.write(f"collected the static files into {settings.STATIC_ROOT}")
