from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The disclosure log: who saw which fields of whom, when, why, and what was refused."""

    name = "tierspayant.audit"
    verbose_name = "Journal des divulgations"

    def ready(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        from tierspayant.audit.db_guard import register_sqlite_function

        # SQLite triggers call a function that must exist on every connection Django opens.
        connection_created.connect(register_sqlite_function, dispatch_uid="tierspayant-audit")
        for connection in connections.all(initialized_only=True):
            if connection.connection is not None:
                register_sqlite_function(None, connection)
