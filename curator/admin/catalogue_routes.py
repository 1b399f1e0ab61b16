"""Admin pages for the track catalogue: seed lists, refresh runs, coverage."""
from curator.admin import bp  # noqa: F401
