"""The Hexitime Django project: settings, URL confs, Celery app and the `hexitime` command.

It lives in `platform/hexitime/` rather than in a package named `platform`, which would
shadow the standard library's `platform` module (and with it `uuid`, and Django).
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
