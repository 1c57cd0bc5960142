"""SQLite storage: one long-lived connection, numbered migrations, one repository per aggregate."""
