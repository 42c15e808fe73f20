"""Scheduled jobs: a registry, leases in the database, an in-process runner and `baomi jobs`."""
