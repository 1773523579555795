"""The ``tierspayant`` command: Django's management commands under the platform's name.

``tierspayant demo``, ``tierspayant create-api-token``... are ``manage.py`` commands;
dashes in a command name are accepted as underscores. ``tierspayant coverage-compute`` is
the pure engine's own command (:mod:`tierspayant.coverage.cli`): it runs without Django, so
without the platform's keys or database.
"""

import os
import sys

#: Commands that need neither Django's settings nor the platform's keys.
PURE_COMMANDS = {"coverage_compute": "tierspayant.coverage.cli"}


def main() -> None:
    """Run a command; ``DJANGO_SETTINGS_MODULE`` defaults to the platform's settings."""
    argv = list(sys.argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    if len(argv) > 1 and argv[1] in PURE_COMMANDS:
        from importlib import import_module

        sys.exit(import_module(PURE_COMMANDS[argv[1]]).main(argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tierspayant.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)
    if argv[1:] in ([], ["help"], ["-h"], ["--help"]):
        names = ", ".join(name.replace("_", "-") for name in sorted(PURE_COMMANDS))
        sys.stdout.write(f"\nWithout keys or database (tierspayant NAME --help): {names}\n")


if __name__ == "__main__":
    main()
