from django.apps import AppConfig


class ExercisesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "labapp.exercises"

    def ready(self) -> None:
        from labapp.exercises import receivers  # noqa: F401  (connects the lab lifecycle hooks)
