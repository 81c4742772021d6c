"""`manage.py exercises load` and `manage.py exercises verify [SLUG...]` (docs/exercises.md)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from labapp.exercises.node.verify import verify_exercise
from labapp.exercises.spec import load_courses
from labapp.exercises.web.services import exercises_load


class Command(BaseCommand):
    help = "Load the course files into the database (load) or prove each exercise (verify)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["load", "verify"])
        parser.add_argument("slugs", nargs="*", help="verify: only these exercises")
        parser.add_argument(
            "--root", default=None, help="the course folder (default: course/ of the project)"
        )

    def handle(self, *args, action: str, slugs: list[str], root: str | None, **options) -> None:
        root_path = Path(root) if root else Path(settings.BASE_DIR) / "course"
        if not root_path.is_dir():
            raise CommandError(f"no course folder {root_path}", returncode=1)
        base = Path.cwd() if Path.cwd() in root_path.resolve().parents else root_path.parent
        if action == "load":
            self._load(root_path, base)
        else:
            self._verify(root_path, base, slugs)

    def _report(self, errors) -> None:
        for error in errors:
            self.stderr.write(str(error))
        raise CommandError(f"{len(errors)} error(s) in the course files", returncode=1)

    def _load(self, root: Path, base: Path) -> None:
        loaded = exercises_load(root=root, base=base)
        if loaded.errors:
            self._report(loaded.errors)
        self.stdout.write(f"loaded {len(loaded.courses)} course(s), {len(loaded.exercises)} exercise(s)")

    def _verify(self, root: Path, base: Path, slugs: list[str]) -> None:
        loaded = load_courses(root, base=base)
        if loaded.errors:
            self._report(loaded.errors)
        exercises = sorted(loaded.exercises, key=lambda e: (e.data["course"], e.data["order"]))
        known = {e.data["slug"] for e in exercises}
        unknown = [slug for slug in slugs if slug not in known]
        if unknown:
            raise CommandError(f"no such exercise: {', '.join(unknown)}", returncode=1)
        failed = 0
        for item in exercises:
            if slugs and item.data["slug"] not in slugs:
                continue
            verdict = verify_exercise(item.data)
            self.stdout.write(verdict.line())
            self.stdout.flush()
            failed += not verdict.ok
        if failed:
            raise CommandError(f"{failed} exercise(s) failed", returncode=1)
