from django.apps import AppConfig


class ClassroomConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "labapp.classroom"
    label = "classroom"

    def ready(self) -> None:
        """Listen to grades, attempts and lab statuses (the live grid); keep the Instructors group."""
        from django.db.models.signals import post_migrate, post_save

        from labapp.classroom import live, roles
        from labapp.exercises.models import Attempt
        from labapp.exercises.records import attempt_graded
        from labapp.labs.hooks import lab_status_changed

        attempt_graded.connect(live.on_attempt_graded, dispatch_uid="classroom-graded")
        post_save.connect(live.on_attempt_saved, sender=Attempt, dispatch_uid="classroom-attempt")
        lab_status_changed.connect(live.on_lab_status, dispatch_uid="classroom-lab-status")
        post_migrate.connect(roles.on_post_migrate, sender=self, dispatch_uid="classroom-roles")
