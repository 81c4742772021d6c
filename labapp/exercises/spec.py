"""Exercise files: YAML → validated dict (errors name file, line and field), params and templating.

`load_courses(root)` reads `root/<course>/course.yaml` and `root/<course>/*.yaml`; every problem is a
`SpecError` (`file:line: field: message`). `exercise_params(exercise, seed)` draws the parameters of
one student; `render(value, params)` substitutes `{{param}}` in every string of a value.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from labapp.exercises.course_schema import LANGUAGES, course_validator, exercise_validator

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
WHOLE_PLACEHOLDER = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
COURSE_FILE = "course.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class SpecError:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class SpecInvalid(Exception):
    """An exercise or course file is invalid; `errors` says where and why."""

    def __init__(self, errors: list[SpecError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = errors


@dataclass
class Course:
    slug: str
    data: dict
    file: str


@dataclass
class LoadedExercise:
    data: dict
    file: str
    digest: str
    lines: dict = field(default_factory=dict, repr=False)


@dataclass
class Loaded:
    courses: dict[str, Course] = field(default_factory=dict)
    exercises: list[LoadedExercise] = field(default_factory=list)
    errors: list[SpecError] = field(default_factory=list)


# -- paths and lines -----------------------------------------------------------------------


def field_path(path: Iterable[Any]) -> str:
    """`("tasks", 0, "checks", 1, "link")` → `tasks[0].checks[1].link`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


def _line_of(node: yaml.Node, path: Iterable[Any]) -> int:
    """The line (1-based) of the YAML node at `path`, or of the deepest node on the way to it."""
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _read_yaml(path: Path, display: str) -> tuple[Any, yaml.Node | None, list[SpecError]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, [SpecError(display, 1, "(file)", str(exc))]
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        return None, None, [SpecError(display, line, "(yaml)", str(getattr(exc, "problem", exc)))]
    return data, node, []


def _schema_errors(validator, data: Any, node: yaml.Node | None, display: str) -> list[SpecError]:
    errors = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        error = _specific(error)
        path = list(error.absolute_path)
        line = _line_of(node, path) if node is not None else 1
        errors.append(SpecError(display, line, field_path(path), error.message))
    return errors


def _specific(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf failures, the most relevant error of the alternatives."""
    if error.context:
        return _specific(best_match(error.context))
    return error


# -- loading ------------------------------------------------------------------------------


def load_courses(root: Path, *, base: Path | None = None) -> Loaded:
    """Read and check every course under `root`; file names in errors are relative to `base`."""
    root = Path(root)
    base = Path(base) if base else root.parent
    loaded = Loaded()
    for course_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        _load_course(course_dir, base, loaded)
    _check_unique_slugs(loaded)
    return loaded


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _load_course(course_dir: Path, base: Path, loaded: Loaded) -> None:
    course_file = course_dir / COURSE_FILE
    display = _display(course_file, base)
    if not course_file.exists():
        loaded.errors.append(SpecError(display, 1, "(file)", "missing: every course needs a course.yaml"))
    else:
        data, node, errors = _read_yaml(course_file, display)
        if not errors:
            errors = _schema_errors(course_validator, data, node, display)
        if errors:
            loaded.errors.extend(errors)
        else:
            loaded.courses[course_dir.name] = Course(course_dir.name, data, display)
    for path in sorted(course_dir.glob("*.yaml")):
        if path.name == COURSE_FILE:
            continue
        exercise, errors = load_exercise_file(path, base=base)
        if exercise is not None and exercise.data["course"] != course_dir.name:
            errors.append(
                SpecError(
                    exercise.file,
                    exercise.lines.get("course", 1),
                    "course",
                    f"{exercise.data['course']!r} is not the folder it is in ({course_dir.name!r})",
                )
            )
        loaded.errors.extend(errors)
        if exercise is not None and not errors:
            loaded.exercises.append(exercise)


def load_exercise_file(
    path: Path, *, base: Path | None = None
) -> tuple[LoadedExercise | None, list[SpecError]]:
    """One exercise file, checked by the schema and the semantic checks."""
    path = Path(path)
    display = _display(path, Path(base)) if base else str(path)
    data, node, errors = _read_yaml(path, display)
    if errors:
        return None, errors
    errors = _schema_errors(exercise_validator, data, node, display)
    if errors:
        return None, errors
    errors = [
        SpecError(display, _line_of(node, where), field_path(where), message)
        for where, message in semantic_errors(data)
    ]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    lines = {"course": _line_of(node, ["course"]), "slug": _line_of(node, ["slug"])}
    return LoadedExercise(data=data, file=display, digest=digest, lines=lines), errors


def _check_unique_slugs(loaded: Loaded) -> None:
    seen: dict[str, LoadedExercise] = {}
    unique = []
    for exercise in loaded.exercises:
        slug = exercise.data["slug"]
        if slug in seen:
            loaded.errors.append(
                SpecError(
                    exercise.file,
                    exercise.lines["slug"],
                    "slug",
                    f"{slug!r} is used by {seen[slug].file} too",
                )
            )
            continue
        seen[slug] = exercise
        unique.append(exercise)
    loaded.exercises = unique


# -- semantic checks ----------------------------------------------------------------------


def semantic_errors(data: dict) -> list[tuple[list, str]]:
    """Problems a schema cannot see: (path, message) pairs."""
    problems: list[tuple[list, str]] = []
    seen: set[str] = set()
    for i, task in enumerate(data["tasks"]):
        if task["id"] in seen:
            problems.append((["tasks", i, "id"], f"task id {task['id']!r} is used twice"))
        seen.add(task["id"])
    params = data.get("params") or {}
    for path, name in _placeholders(data, []):
        if name not in params:
            problems.append((path, f"unknown parameter {{{{{name}}}}}"))
    for name, spec in params.items():
        if "range" in spec and spec["range"][0] > spec["range"][1]:
            problems.append((["params", name, "range"], "the range's first value is larger than its last"))
    try:
        _order_params(params)
    except ValueError as exc:
        problems.append((["params"], str(exc)))
    for path, text in _localised(data, []):
        missing = [lang for lang in LANGUAGES if lang not in text]
        if missing:
            problems.append((path, f"missing translation: {', '.join(missing)}"))
    return problems


def _placeholders(value: Any, path: list) -> Iterable[tuple[list, str]]:
    if isinstance(value, str):
        for match in PLACEHOLDER.finditer(value):
            yield path, match.group(1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders(item, [*path, index])


_LOCALISED_KEYS = {"title", "summary", "text", "prompt"}


def _localised(value: Any, path: list) -> Iterable[tuple[list, dict]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _LOCALISED_KEYS and isinstance(item, dict):
                yield [*path, key], item
            else:
                yield from _localised(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if path and path[-1] == "hints" and isinstance(item, dict):
                yield [*path, index], item
            else:
                yield from _localised(item, [*path, index])


# -- params and templating ----------------------------------------------------------------


def _order_params(params: dict) -> list[str]:
    """Parameter names in an order where every template comes after the parameters it uses."""
    deps = {name: {n for _p, n in _placeholders(spec, []) if n in params} for name, spec in params.items()}
    order: list[str] = []
    while len(order) < len(params):
        ready = [n for n in params if n not in order and deps[n] <= set(order)]
        if not ready:
            cycle = sorted(n for n in params if n not in order)
            raise ValueError(f"parameters depend on each other in a circle: {', '.join(cycle)}")
        order.extend(ready)
    return order


def params_seed(user_id: int, slug: str) -> str:
    """The seed of one student's parameters for one exercise."""
    return f"{user_id}:{slug}"


def exercise_params(data: dict, seed: str) -> dict[str, Any]:
    """Draw the exercise's parameters for `seed` (the same seed gives the same values)."""
    params = data.get("params") or {}
    rng = random.Random(hashlib.sha256(seed.encode()).hexdigest())
    draws: dict[str, Any] = {}
    for name, spec in params.items():  # draw in declared order, so that values do not depend on deps
        if "choice" in spec:
            draws[name] = rng.choice(spec["choice"])
        elif "range" in spec:
            draws[name] = rng.randint(spec["range"][0], spec["range"][1])
    values: dict[str, Any] = {}
    for name in _order_params(params):
        spec = params[name]
        if "subnet" in spec:
            text = render(spec["subnet"], values)
            values[name] = str(ipaddress.ip_network(str(text), strict=False))
        else:
            values[name] = render(draws[name], values)
    return values


def render(value: Any, params: dict[str, Any]) -> Any:
    """`value` with `{{name}}` replaced in every string; a string that is only a placeholder takes the
    parameter's value with its type (so `port: "{{port}}"` becomes a number)."""
    if isinstance(value, str):
        whole = WHOLE_PLACEHOLDER.match(value)
        if whole and whole.group(1) in params:
            return params[whole.group(1)]
        return PLACEHOLDER.sub(
            lambda m: str(params[m.group(1)]) if m.group(1) in params else m.group(0), value
        )
    if isinstance(value, dict):
        return {key: render(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, params) for item in value]
    return value


def localised(text: dict | str | None, language: str) -> str:
    """The text of a localised mapping in `language` (English when it has none)."""
    if not isinstance(text, dict):
        return text or ""
    return text.get(language) or text.get(language.split("-")[0]) or text.get("en", "")
