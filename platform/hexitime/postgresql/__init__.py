"""Django's PostgreSQL backend, sending one SQL statement per execute (see base.py)."""
