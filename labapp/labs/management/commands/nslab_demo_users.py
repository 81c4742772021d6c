from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# username, password, is_staff: one instructor, one student.
DEMO_USERS = (("teacher", "teacher", True), ("student", "student", False))


class Command(BaseCommand):
    help = (
        "Create the demo instructor (teacher/teacher) and student (student/student) if they are missing, "
        "and a demo class of the course that the teacher teaches and the student is in."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="create them even with DEBUG off (known passwords!)"
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo users have well-known passwords; refusing with DEBUG off (use --force).")
        User = get_user_model()
        for username, password, is_staff in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                self.stdout.write(f"{username}: exists, left unchanged")
                continue
            User.objects.create_user(username=username, password=password, is_staff=is_staff)
            self.stdout.write(self.style.SUCCESS(f"{username}: created (password {password!r})"))
        if apps.is_installed("labapp.classroom"):  # its command: labs imports nothing of classroom
            call_command("nslab_demo_class", stdout=self.stdout)
