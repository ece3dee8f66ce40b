"""``python manage.py import_data KIND FILE [--dry-run] [--skip-invalid] [--source NAME]``

Imports a CSV, XLSX or JSON file of instruments, trades, positions, prices, FX
rates or cash flows through ``analytics.services.imports.runs.data_import``. Exit code
0 when the rows were committed (or the dry run found no errors), 1 when rows were
rejected and nothing was committed, the file could not be read, or ``--user`` may
import nothing of the kind (no run is recorded then); the rejected rows are listed
(the first 20) and written in full to the report file.
"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from analytics.ingest.kinds import SPECS
from analytics.ingest.parsers import format_from_name
from analytics.models import ImportOrigin, ImportStatus
from analytics.services.imports.runs import data_import
from portal.models import User

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "Import instruments, trades, positions, prices, FX rates or cash flows from a file."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(SPECS))
        parser.add_argument("file", help="CSV, XLSX or JSON file ('-' for CSV on stdin)")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and count; commit nothing"
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Commit the good rows and write a report of the rejected ones",
        )
        parser.add_argument(
            "--source",
            default="file",
            help="Source name stored on the rows; part of the natural key (default: file)",
        )
        parser.add_argument(
            "--format", choices=["csv", "xlsx", "json"], help="Default: from the file's extension"
        )
        parser.add_argument(
            "--user",
            help="Import as this user (entitlements apply); default: the system, no limits",
        )

    def handle(self, *args, kind, file, dry_run, skip_invalid, source, format, user, **options):
        actor = None
        if user:
            actor = User.objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user {user!r}")
        file_format = format or format_from_name(file)
        if file == "-":
            import sys

            stream, name = sys.stdin.buffer, "<stdin>"
        else:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"{file}: no such file")
            stream, name = path.open("rb"), path.name
        try:
            run = data_import(
                kind=kind,
                stream=stream,
                file_name=name,
                file_format=file_format,
                source=source,
                actor=actor,
                origin=ImportOrigin.CLI,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
            )
        except PermissionDenied as refused:
            raise CommandError(f"{user}: {refused}") from None
        finally:
            if stream is not sys_stdin_buffer():
                stream.close()
        for error in run.errors[:SHOWN_ERRORS]:
            where = f"row {error['row']}" if error["row"] else name
            field = f", field {error['field']!r}" if error["field"] else ""
            self.stderr.write(f"{name}: {where}{field}: {error['message']}")
        if run.error_count > SHOWN_ERRORS:
            self.stderr.write(f"... and {run.error_count - SHOWN_ERRORS} more errors")
        if run.report:
            self.stderr.write(f"Rejected rows: {Path(settings.MEDIA_ROOT) / run.report}")
        if run.status in (ImportStatus.REJECTED, ImportStatus.FAILED):
            raise CommandError(f"import #{run.pk}: {run.message}")
        if run.status == ImportStatus.DRY_RUN and run.error_count and not skip_invalid:
            raise CommandError(f"import #{run.pk}: {run.message}")
        self.stdout.write(f"import #{run.pk}: {run.message}")


def sys_stdin_buffer():
    import sys

    return sys.stdin.buffer
