"""Demo compliance rules and a first evaluation (after ``load_demo``)."""

from django.core.management.base import BaseCommand, CommandError

from compliance.demo import compliance_demo_is_loaded, compliance_demo_load
from portal.models import User


class Command(BaseCommand):
    help = "Create the demo compliance rules and evaluate every portfolio once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="do nothing when the demo rules exist (used by `make run`)",
        )

    def handle(self, *args, if_missing, **options):
        if if_missing and compliance_demo_is_loaded():
            self.stdout.write("Demo compliance rules already loaded.")
            return
        if not User.objects.filter(username="compliance").exists():
            raise CommandError("Load the analytics demo first: manage.py load_demo")
        compliance_demo_load(progress=self.stdout.write)
