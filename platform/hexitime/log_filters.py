"""Filters for the console log handler."""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """A 4xx is the client's mistake or a refusal (404, 403, 400): Django logs it as a
    WARNING with the exception that raised it, whose traceback says nothing new and buries
    the real errors. Keep the one line; 5xx and every other log keep their tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.") and record.levelno < logging.ERROR:
            record.exc_info = None
            record.exc_text = None
        return True
