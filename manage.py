#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# PostgreSQL's time limits are for serving requests. A command (a migration building an
# index, the demo seed, a rebuild of figures) may run statements and hold transactions far
# longer, so it runs without them unless they are set; runserver serves requests and keeps
# the defaults (see the README's settings).
UNLIMITED_FOR_COMMANDS = (
    "DATABASE_STATEMENT_TIMEOUT",
    "DATABASE_LOCK_TIMEOUT",
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT",
)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipt_clinic.settings.local")
    if sys.argv[1:2] != ["runserver"]:
        for name in UNLIMITED_FOR_COMMANDS:
            os.environ.setdefault(name, "0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
