"""The dashboard's forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from labapp.classroom.selectors import course_choices
from labapp.classroom.web.enrolment import MAX_BYTES


class CodeDaysField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        choices = [(7, _("1 week")), (14, _("2 weeks")), (90, _("3 months")), (0, _("Until I close it"))]
        super().__init__(choices=choices, coerce=int, initial=14, label=_("Join code valid for"), **kwargs)


class CohortForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    course = forms.ChoiceField(label=_("Course"))
    code_days = CodeDaysField()

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = [(slug, course.title(language)) for slug, course in course_choices()]


class JoinCodeForm(forms.Form):
    code_days = CodeDaysField()


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Join code"), max_length=32)


class InstructorForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)


class EnrolmentForm(forms.Form):
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "Columns username, email, name; UTF-8; at most %(kb)d KB."
        ) % {"kb": MAX_BYTES // 1024}
