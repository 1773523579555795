"""Member files: the CSV files insurers send to feed the register (docs/member-file.md).

- :mod:`.columns`: the format (columns, separator, codes);
- :mod:`.parsing`: streaming read and line validation (pure, no database);
- :mod:`.contracts`: insurers and contracts a line refers to (must be known);
- :mod:`.sealing`: encryption and blind indexes computed per batch;
- :mod:`.pipeline`: checking and sealing batches, in this process or worker processes;
- :mod:`.staging`: the staging table and the set-based merge (SQLite and PostgreSQL);
- :mod:`.importer`: :func:`~.importer.import_members`, the service the command calls;
- :mod:`.writer`: writing member files (the synthetic generator).
"""
