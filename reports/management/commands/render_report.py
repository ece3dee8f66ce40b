"""``render_report TEMPLATE --user USERNAME [--portfolio CODE ...] [--period P]
--format pdf,xlsx,csv,json --output DIR``: render a report synchronously as a user.

The run is recorded like any other (a ``ReportRun`` with its files in the
reports storage, audited), then its files are copied into ``DIR`` and one JSON
object is printed: ``{"run", "template", "version", "status", "data_as_of",
"warnings", "files": [{"name", "format", "bytes", "sha256", "pages", "sheets"}]}``.
Anything that stops the report (an unknown template or user, a portfolio the
user may not see, a bad period or format, a failed run) exits non-zero with the
reason and writes nothing into ``DIR``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.errors import ReportInvalid, ReportNotFound, ReportPermissionDenied
from reports.models import RunStatus
from reports.selectors import report_template_get_for_user
from reports.services.runs import formats_clean, report_render_sync
from reports.storage import report_storage


class Command(BaseCommand):
    help = "Render a report template synchronously as a user and write its files into a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("template", help="The template's slug or id.")
        parser.add_argument("--user", required=True, help="Render as this username.")
        parser.add_argument(
            "--portfolio",
            action="append",
            default=[],
            dest="portfolios",
            help="A portfolio code (repeat for several); default: the template's.",
        )
        parser.add_argument("--period", help="A period key (mtd, ytd, 1y, custom...).")
        parser.add_argument("--start", help="Start date of a custom period (YYYY-MM-DD).")
        parser.add_argument("--end", help="End date of a custom period (YYYY-MM-DD).")
        parser.add_argument(
            "--format",
            required=True,
            dest="formats",
            help="Comma-separated: pdf,xlsx,csv,json,html.",
        )
        parser.add_argument("--output", required=True, help="The folder to write the files into.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user “{options['user']}”.")
        output = Path(options["output"])
        if output.exists() and not output.is_dir():
            raise CommandError(f"The output “{output}” is not a folder.")
        parameters: dict[str, Any] = {}
        if options["portfolios"]:
            parameters["portfolios"] = options["portfolios"]
        if options["period"]:
            parameters["period"] = options["period"]
        if options["start"] or options["end"]:
            parameters.update(start=options["start"], end=options["end"])
        try:
            formats = formats_clean(options["formats"])
            template = report_template_get_for_user(
                user=user, template=options["template"], level="run"
            )
            run = report_render_sync(
                user=user, template=template, parameters=parameters, formats=formats
            )
        except ReportNotFound:
            raise CommandError(
                f"There is no report template “{options['template']}” that "
                f"{user.get_username()} may see."
            ) from None
        except (ReportInvalid, ReportPermissionDenied) as error:
            raise CommandError(str(error)) from None
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(f"Report run {run.pk} failed: {run.error}")
        storage = report_storage()
        files = list(run.files.order_by("id"))
        output.mkdir(parents=True, exist_ok=True)
        for file in files:
            with (
                storage.open(file.storage_name, "rb") as source,
                (output / file.name).open("wb") as target,
            ):
                shutil.copyfileobj(source, target)
        summary = {
            "run": run.pk,
            "template": template.slug,
            "version": run.version.number if run.version else None,
            "status": run.status,
            "data_as_of": run.data_as_of.isoformat() if run.data_as_of else None,
            "warnings": run.warnings,
            "files": [
                {
                    "name": file.name,
                    "format": file.format,
                    "bytes": file.size,
                    "sha256": file.sha256,
                    "pages": file.pages,
                    "sheets": file.sheets,
                }
                for file in files
            ],
        }
        self.stdout.write(json.dumps(summary))
