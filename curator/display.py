"""How every page writes the things it shows in more than one place: a mood by its name (as the
listener's pages name it, never by its slug) and a moment in human words.

Registered on the app as the template filters `mood_name` and `when`.
"""
from __future__ import annotations

from datetime import datetime, timezone

from markupsafe import Markup, escape

from curator.clock import utcnow


def mood_name(slug: str | None) -> str:
    """The mood's name from its current version ("Calm" for `calm`); the slug itself for a mood that
    no longer exists, "all moods" for none."""
    if not slug:
        return "all moods"
    from curator.moods.store import names_by_slug  # read once per request with the other moods

    return names_by_slug().get(slug, slug)


def _as_utc(value: datetime | str) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.removesuffix("Z"))
        except ValueError:
            return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def when_words(value: datetime, now: datetime | None = None) -> str:
    """"just now", "4 minutes ago", "3 hours ago", "yesterday at 14:05", "2 Dec at 09:30",
    "2 Dec 2025" — UTC, as every time is stored."""
    now = now or utcnow()
    seconds = (now - value).total_seconds()
    if -60 < seconds < 60:
        return "just now"
    if 0 < seconds < 3600:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    if 0 < seconds < 6 * 3600:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    if value.date() == now.date():
        return f"today at {value:%H:%M}"
    if (now.date() - value.date()).days == 1:
        return f"yesterday at {value:%H:%M}"
    if value.year == now.year:
        return f"{value.day} {value:%b} at {value:%H:%M}"
    return f"{value.day} {value:%b %Y}"


def when(value: datetime | str | None, now: datetime | None = None) -> Markup:
    """A moment as a `<time>` element: words for people, the exact UTC time on hover and for machines."""
    moment = _as_utc(value) if value else None
    if moment is None:
        return Markup("") if not value else Markup(escape(value))
    exact = f"{moment.day} {moment:%b %Y, %H:%M:%S} UTC"
    return Markup('<time datetime="{}Z" title="{}">{}</time>').format(
        moment.isoformat(timespec="seconds"), exact, when_words(moment, now))


def init_app(app) -> None:
    app.add_template_filter(mood_name)
    app.add_template_filter(when)
