"""The Celery application of the platform's background jobs (lots of invoices today).

Workers run on any machine that reaches the database and the broker (the platform's Redis,
``TIERSPAYANT_CELERY_BROKER_URL``)::

    DJANGO_SETTINGS_MODULE=tierspayant.settings celery -A tierspayant.jobs worker -c 2

Tasks are found in each app's ``tasks`` module. Tests and the demo run them eagerly
(``CELERY_TASK_ALWAYS_EAGER``), so nothing more is needed there.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tierspayant.settings")

app = Celery("tierspayant")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["tierspayant.invoices"])
