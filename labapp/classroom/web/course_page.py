"""What classroom adds to the course pages (registered through labapp.exercises.hooks by apps.py): the
student's classes, with their courses and instructors."""

from __future__ import annotations

from labapp.classroom.selectors import cohorts_of_student, course_title
from labapp.exercises.hooks import CourseSection


def classes_context(request, course) -> dict | None:
    """The student's classes (of `course`, on its page; all of them on the course list); None if none."""
    cohorts = cohorts_of_student(user=request.user, course=course.slug if course else None).prefetch_related(
        "instructors"
    )
    rows = [
        {
            "cohort": cohort,
            "course_title": course_title(slug=cohort.course, language=request.LANGUAGE_CODE),
            "instructors": sorted(i.get_full_name() or i.username for i in cohort.instructors.all()),
        }
        for cohort in cohorts
    ]
    return {"classes": rows, "on_course": course is not None} if rows else None


CLASSES_SECTION = CourseSection(
    app="classroom", template="classroom/course_classes.html", context=classes_context
)
