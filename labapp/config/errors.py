"""The page of a request that failed (DEBUG off): while the database cannot be reached (PostgreSQL
restarting), a plain 503 saying so and when to try again; Django's 500 otherwise."""

from __future__ import annotations

import sys

from django.db import DatabaseError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER = 10  # seconds


def server_error(request):
    """handler500: called while the exception is handled, so sys.exc_info() names it."""
    if isinstance(sys.exc_info()[1], DatabaseError):
        # No request context: the site's frame reads the user, which needs the database.
        page = loader.get_template("503.html").render({"retry_after": RETRY_AFTER})
        return HttpResponse(page, status=503, headers={"Retry-After": str(RETRY_AFTER)})
    return defaults.server_error(request)
