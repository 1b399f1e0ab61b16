"""The listener's fixtures (shipped moods, the synthetic catalogue, a logged-in listener), defined
once in tests/listen/conftest.py."""
from tests.listen.conftest import catalogue, large_catalogue, listener, moods  # noqa: F401  (fixtures)
