"""The demo's tests that start `make run`'s processes use the foundation tests' own Redis."""

from tests.foundation.conftest import redis_url  # noqa: F401 - a fixture, used by name
