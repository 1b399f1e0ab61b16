"""Admin tests reuse the curator fixtures (shipped moods)."""
from tests.curate.conftest import moods  # noqa: F401
