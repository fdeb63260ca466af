"""SQLite storage: schema and migrations, the unit of work, shared task operations."""
