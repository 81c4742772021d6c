"""The page of a request that failed (DEBUG off): while the database cannot be reached (PostgreSQL
restarting), a plain 503 saying so and when to try again; Django's 500 otherwise. And the log of such
requests and sockets: one line each, not a traceback (a class's pages retry every RETRY_AFTER s)."""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER = 10  # seconds
# What a database that is down or restarting raises (connection refused, closed, shutting down);
# other database errors (an IntegrityError, a missing table) are bugs: a 500 with its traceback.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def server_error(request):
    """handler500: called while the exception is handled, so sys.exc_info() names it."""
    if isinstance(sys.exc_info()[1], DATABASE_UNREACHABLE):
        # No request context: the site's frame reads the user, which needs the database.
        page = loader.get_template("503.html").render({"retry_after": RETRY_AFTER})
        return HttpResponse(page, status=503, headers={"Retry-After": str(RETRY_AFTER)})
    return defaults.server_error(request)


class DatabaseUnreachableLogFilter(logging.Filter):
    """On django.request and daphne.server (settings.LOGGING): a request answered 503 or a socket
    refused because the database is unreachable is logged as one line with the error's first line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, DATABASE_UNREACHABLE):
            message = record.getMessage().splitlines()[0]
            cause = (str(error).splitlines() or [type(error).__name__])[0]
            record.msg = f"{message} (database unreachable{'' if cause in message else ': ' + cause})"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True
