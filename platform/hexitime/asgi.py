import os

from django.core.asgi import get_asgi_application

from hexitime.settings.env import settings_module_default

os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module_default())

application = get_asgi_application()
