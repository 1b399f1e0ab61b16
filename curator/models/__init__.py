"""Database models, one module per area. Importing this package registers every table."""
from curator.models import catalogue, jobs, limits, listening, living, taste  # noqa: F401
from curator.models.audit import AuditEvent  # noqa: F401
from curator.models.mood import Mood, MoodVersion  # noqa: F401
from curator.models.user import SpotifyCall, SpotifyToken, User, WebSession  # noqa: F401
