"""How other apps add to the course pages: exercises imports none of them, they register here from
their `AppConfig.ready()` (labapp.classroom shows a student's classes this way).

- `course_section_add(CourseSection(app, template, context))`: a section of the course list (`course`
  None) and of each course page. The page calls `context(request, course)`; None shows nothing, a
  dict renders `template` with it above the page's own content.

Registering the same app again replaces its section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CourseSection:
    """A section another app adds to the course pages."""

    app: str
    template: str
    context: Callable[..., dict | None]


COURSE_SECTIONS: dict[str, CourseSection] = {}


def course_section_add(section: CourseSection) -> None:
    """Show `section` on the course list and the course pages (one section per app)."""
    COURSE_SECTIONS[section.app] = section
