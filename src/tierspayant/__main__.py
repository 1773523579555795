"""The ``tierspayant`` command: Django's management commands under the platform's name.

``tierspayant demo``, ``tierspayant create-api-token``... are ``manage.py`` commands;
dashes in a command name are accepted as underscores.
"""

import os
import sys


def main() -> None:
    """Run a management command; ``DJANGO_SETTINGS_MODULE`` defaults to the platform's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tierspayant.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
