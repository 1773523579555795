"""WSGI entry point (gunicorn ``tierspayant.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tierspayant.settings")
application = get_wsgi_application()
