"""Where exercises hook into the lab lifecycle and the node agent (connected by the app's ready())."""

from django.dispatch import receiver

from labapp.exercises import grading
from labapp.labs.lifecycle import sandbox_prepared
from labapp.labs.node import STATE_LISTENERS


@receiver(sandbox_prepared, dispatch_uid="exercises-setup")
def run_exercise_setup(sender, *, lab, sandbox_id: str, **kwargs) -> None:
    grading.attempt_setup(lab=lab, sandbox_id=sandbox_id)


if grading.on_lab_state not in STATE_LISTENERS:
    STATE_LISTENERS.append(grading.on_lab_state)
