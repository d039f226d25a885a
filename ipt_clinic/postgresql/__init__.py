"""The app's database backend: Django's PostgreSQL backend with time limits (see ``base``)."""
