"""`{% exercise_panel lab %}`: the exercise panel of a lab page (nothing for a lab without an exercise)."""

from django import template

from labapp.exercises.selectors import attempt_get_for_lab, attempt_panel

register = template.Library()


@register.inclusion_tag("exercises/panel.html", takes_context=True)
def exercise_panel(context, lab) -> dict:
    request = context["request"]
    attempt = attempt_get_for_lab(lab_id=lab.pk, user=request.user)
    if attempt is None:
        return {"panel": None}
    return {
        "panel": attempt_panel(attempt=attempt, language=request.LANGUAGE_CODE),
        "csrf_token": context.get("csrf_token"),
    }
