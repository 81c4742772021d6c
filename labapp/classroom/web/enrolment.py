"""Enrolling students from a CSV file with the columns username, email, name (in any order).

Validate, then write: every row is checked first (its fields, the username's rules, the email, a
duplicate of an earlier row, an existing account that does not match), and then all the good rows are
written in one transaction: accounts created where missing (no password yet: a set-password link that
the instructor passes on), enrolments made. Bad rows are reported by line and reason and do not stop
the good ones; an error while writing rolls every row back, so nothing is ever half-done.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from labapp.classroom.models import Cohort, Enrolment

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
COLUMNS = ("username", "email", "name")
NAME_MAX = 150


class CsvFileError(Exception):
    """The file as a whole cannot be read (size, encoding, columns); the message is for the user."""


@dataclass(frozen=True)
class Row:
    line: int
    username: str
    email: str
    name: str


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    set_password_path: str


@dataclass
class EnrolmentReport:
    enrolled: list[str] = field(default_factory=list)  # newly enrolled usernames
    already: list[str] = field(default_factory=list)  # were enrolled before
    created: list[NewAccount] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def csv_rows(data: bytes) -> tuple[list[Row], list[RowProblem]]:
    """The file's rows (with their line numbers) and the rows that have the wrong number of fields."""
    if len(data) > MAX_BYTES:
        raise CsvFileError(_("The file is larger than %(limit)d KB.") % {"limit": MAX_BYTES // 1024})
    try:
        text = data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvFileError(
            _("The file is not UTF-8 text (line %(line)d). Save it as “CSV UTF-8” and try again.")
            % {"line": line}
        ) from None
    if "\0" in text:
        raise CsvFileError(_("The file is not a CSV file: it holds NUL characters."))
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    problems: list[RowProblem] = []
    try:
        header = next((r for r in reader if any(c.strip() for c in r)), None)
        found = [c.strip().lower() for c in header or []]
        if sorted(found) != sorted(COLUMNS):
            raise CsvFileError(
                _("The first line must name the columns username, email, name (found: %(found)s).")
                % {"found": ", ".join(found) or _("nothing")}
            )
        for fields in reader:
            if not any(c.strip() for c in fields):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise CsvFileError(_("The file has more than %(limit)d rows.") % {"limit": MAX_ROWS})
            if len(fields) != len(COLUMNS):
                problems.append(
                    RowProblem(
                        reader.line_num,
                        _("%(expected)d fields expected, %(found)d found.")
                        % {"expected": len(COLUMNS), "found": len(fields)},
                    )
                )
                continue
            values = dict(zip(found, (c.strip() for c in fields), strict=True))
            rows.append(Row(reader.line_num, values["username"], values["email"], values["name"]))
    except csv.Error as exc:
        raise CsvFileError(_("The file is not a CSV file: %(error)s") % {"error": exc}) from None
    return rows, problems


def _row_problem(row: Row, seen: dict[str, int], accounts: dict[str, object], emails: dict[str, str]):
    if not row.username:
        return _("The username is missing.")
    try:
        UnicodeUsernameValidator()(row.username)
    except ValidationError:
        return _("“%(username)s” is not a valid username (letters, digits and @.+-_ only).") % {
            "username": row.username
        }
    if len(row.username) > 150 or len(row.name) > NAME_MAX:
        return _("The username or the name is too long.")
    if row.username.lower() in seen:
        return _("Duplicate of line %(line)d.") % {"line": seen[row.username.lower()]}
    if row.email:
        try:
            validate_email(row.email)
        except ValidationError:
            return _("“%(email)s” is not a valid email address.") % {"email": row.email}
    account = accounts.get(row.username.lower())
    if account is not None and row.email and account.email and account.email.lower() != row.email.lower():
        return _("The account “%(username)s” exists with another email address.") % {"username": row.username}
    owner = emails.get(row.email.lower()) if row.email else None
    if owner is not None and owner != row.username.lower():
        return _("The email address belongs to the account “%(username)s”.") % {"username": owner}
    return None


def enrol_csv(*, cohort: Cohort, data: bytes) -> EnrolmentReport:
    """Enrol the students of a CSV file (see the module's docstring). CsvFileError: nothing done."""
    rows, problems = csv_rows(data)
    User = get_user_model()
    names = {r.username.lower() for r in rows if r.username}
    accounts = {
        u.username.lower(): u for u in User.objects.alias(key=Lower("username")).filter(key__in=names)
    }
    given = {r.email.lower() for r in rows if r.email}
    emails = {
        e.lower(): u.lower()
        for u, e in User.objects.alias(key=Lower("email"))
        .filter(key__in=given)
        .values_list("username", "email")
    }
    report = EnrolmentReport(problems=problems)
    good: list[Row] = []
    seen: dict[str, int] = {}
    for row in rows:
        reason = _row_problem(row, seen, accounts, emails)
        if reason:
            report.problems.append(RowProblem(row.line, reason))
        else:
            good.append(row)
        if row.username:
            seen.setdefault(row.username.lower(), row.line)
    report.problems.sort(key=lambda p: p.line)
    with transaction.atomic():
        for row in good:
            user = accounts.get(row.username.lower())
            if user is None:
                user = User(username=row.username, email=row.email, first_name=row.name)
                user.set_unusable_password()
                user.save()
                report.created.append(NewAccount(user.username, user.email, set_password_path(user)))
            _enrolment, created = Enrolment.objects.get_or_create(
                cohort=cohort, student=user, defaults={"via": Enrolment.Via.CSV}
            )
            (report.enrolled if created else report.already).append(user.username)
    return report


def set_password_path(user) -> str:
    """The path of a link that lets `user` choose a password (Django's password reset confirmation;
    valid for PASSWORD_RESET_TIMEOUT, and only until a password is set)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse(
        "password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)}
    )
