from django.apps import AppConfig


class ExercisesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "labapp.exercises"

    def ready(self) -> None:
        """Plug exercises into the lab (labapp.labs.hooks): page panel, socket frames, setup, grading."""
        from labapp.exercises import frames
        from labapp.exercises.node import attempt_grading
        from labapp.exercises.web import lab_page
        from labapp.labs import hooks

        hooks.lab_panel_add(lab_page.EXERCISE_PANEL)
        hooks.socket_frame_add(
            "attempt.check", frames.ATTEMPT_CHECK, lab_page.attempt_check_frame, error_codes=("no_attempt",)
        )
        hooks.group_frame_add("attempt.graded", frames.ATTEMPT_GRADED)
        hooks.sandbox_prepared.connect(attempt_grading.on_sandbox_prepared, dispatch_uid="exercises-setup")
        hooks.state_listener_add(attempt_grading.on_lab_state)
