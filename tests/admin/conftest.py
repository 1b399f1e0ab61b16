"""Admin tests reuse the curator fixtures (shipped moods, an imported catalogue)."""
from tests.curate.conftest import catalogue, moods  # noqa: F401
