from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from labapp.classroom.demo import demo_cohort_ensure

DEMO_COHORT = "Demo class"
DEMO_COURSE = "docker-networking"


class Command(BaseCommand):
    help = "Create the demo class (nslab_demo_users runs it): the teacher teaches it, the student is in it."

    def handle(self, *args, **options):
        User = get_user_model()
        try:
            teacher, student = User.objects.get(username="teacher"), User.objects.get(username="student")
        except User.DoesNotExist:
            raise CommandError(
                "Run nslab_demo_users first: the demo teacher and student are missing."
            ) from None
        cohort, created = demo_cohort_ensure(
            name=DEMO_COHORT, course=DEMO_COURSE, teacher=teacher, student=student
        )
        state = "created" if created else "exists"
        self.stdout.write(
            f"class {cohort.name!r}: {state} (join code {cohort.join_code}), teacher teaches it"
        )
