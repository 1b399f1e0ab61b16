"""Living playlists: how often a saved playlist is kept fresh, when it is next due, and what the
listener is told about it.

Freshness is per saved playlist: off, daily at an hour in the listener's time zone, weekly (on the
weekday it was turned on, at that hour), or at each check-in that starts from the playlist's mood.
Due times are stored in UTC (`next_due_at`); a due time that passed while nobody ran the schedule
is refreshed once, not once per missed day. Helpers of `curator.playlists.service`: they add and
flush, the service commits. The refresh itself is `refreshing.py`'s.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update

from curator.clock import utcnow
from curator.extensions import db
from curator.models.listening import SAVE_DONE, PlaylistSave
from curator.models.living import (
    EVERY,
    LIVING_ACTIVE,
    LIVING_GONE,
    LIVING_PAUSED,
    REFRESH_CANCELLED,
    REFRESH_DONE,
    REFRESH_PENDING,
    REFRESH_READY,
    LivingPlaylist,
    PlaylistRefresh,
)
from curator.problems import NotFound, Unprocessable

DEFAULT_HOUR = 7


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


def next_due(every: str, hour: int, timezone: str, weekday: int | None, after: datetime) -> datetime | None:
    """The first due time strictly after `after` (naive UTC, like the columns); None when the
    playlist is not refreshed on a clock (off, or at check-ins)."""
    if every not in ("daily", "weekly"):
        return None
    zone = _zone(timezone)
    local_day = after.replace(tzinfo=UTC).astimezone(zone).date()
    for offset in range(0, 9):
        day = local_day + timedelta(days=offset)
        if every == "weekly" and weekday is not None and day.weekday() != weekday:
            continue
        # An hour that a clock change skips is read as the hour after it (zoneinfo's fold=0).
        due = datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        if due > after:
            return due
    raise AssertionError("a daily or weekly due time is always found within 9 days")


@dataclass(frozen=True)
class Freshness:
    every: str
    hour: int
    timezone: str


def parse_freshness(data: Mapping, current: LivingPlaylist | None = None) -> Freshness:
    """`{"every": "off"|"daily"|"weekly"|"check-in", "hour": 0-23, "timezone": "Europe/Berlin"}`;
    `hour` and `timezone` keep their current values (or 7 and UTC) when left out."""
    if not isinstance(data, Mapping):
        raise Unprocessable("Send a JSON object.", field=None)
    every = str(data.get("every") or "").strip()
    if every not in EVERY:
        raise Unprocessable("Keep it fresh: choose off, daily, weekly or check-in.", field="every")
    hour = data.get("hour")
    if hour in (None, ""):
        hour = current.hour if current is not None else DEFAULT_HOUR
    if isinstance(hour, bool):
        raise Unprocessable("The hour is a whole number from 0 to 23.", field="hour")
    try:
        number = float(hour)
        if not number.is_integer() or not 0 <= number <= 23:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise Unprocessable("The hour is a whole number from 0 to 23.", field="hour") from None
    timezone = data.get("timezone")
    if timezone in (None, ""):
        timezone = current.timezone if current is not None else "UTC"
    if not isinstance(timezone, str) or len(timezone) > 64 or timezone.startswith(("/", ".")) or ".." in timezone:
        raise Unprocessable("Name a time zone like Europe/Berlin.", field="timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable(f"There is no time zone called “{timezone}”; name one like Europe/Berlin.",
                            field="timezone") from None
    return Freshness(every, int(number), timezone)


def own_save(user, playlist_id: str) -> PlaylistSave:
    """The listener's finished save of the Spotify playlist `playlist_id` (only playlists Curator
    made for them can be kept fresh); anyone else's, or none, is NotFound."""
    save = db.session.scalar(select(PlaylistSave).where(
        PlaylistSave.user_id == user.id, PlaylistSave.playlist_id == str(playlist_id)[:64],
        PlaylistSave.state == SAVE_DONE))
    if save is None:
        raise NotFound("There is no such playlist of yours.")
    return save


def living_of(save: PlaylistSave) -> LivingPlaylist | None:
    return db.session.scalar(select(LivingPlaylist).where(LivingPlaylist.save_id == save.id))


def living_by_save(save_ids: list[int]) -> dict[int, LivingPlaylist]:
    """Living playlists of these saves, by save id (one read for a page of them)."""
    if not save_ids:
        return {}
    rows = db.session.scalars(select(LivingPlaylist).where(LivingPlaylist.save_id.in_(save_ids)))
    return {row.save_id: row for row in rows}


def set_freshness(user, save: PlaylistSave, fresh: Freshness, now: datetime | None = None) -> LivingPlaylist:
    """Keep `save`'s playlist fresh as `fresh` says (or stop: "off"). A refresh already sending to
    Spotify finishes (never half); one not begun is cancelled."""
    now = now or utcnow()
    living = living_of(save)
    if living is None:
        living = LivingPlaylist(user_id=user.id, save_id=save.id, playlist_id=save.playlist_id,
                                tracks=list(save.preview.tracks), status=LIVING_ACTIVE, new_tracks=0, failures=0)
        db.session.add(living)
    living.every, living.hour, living.timezone = fresh.every, fresh.hour, fresh.timezone
    living.weekday = (now.replace(tzinfo=UTC).astimezone(_zone(fresh.timezone)).weekday()
                      if fresh.every == "weekly" else None)
    living.next_due_at = next_due(fresh.every, fresh.hour, fresh.timezone, living.weekday, now)
    if fresh.every == "check-in":
        living.checkin_seen_at = now  # check-ins from now on (the schedule's run turns each into a refresh)
    db.session.flush()
    if fresh.every == "off" or living.status == LIVING_GONE:
        living.next_due_at = None
        cancel_unsent(living.id)
    return living


def cancel_unsent(living_id: int) -> int:
    """Cancel the playlist's refreshes that sent nothing yet and are not running; how many."""
    now = utcnow()
    return db.session.execute(
        update(PlaylistRefresh)
        .where(PlaylistRefresh.living_id == living_id,
               PlaylistRefresh.state.in_((REFRESH_PENDING, REFRESH_READY)),
               PlaylistRefresh.kind != "restore",
               (PlaylistRefresh.lease_until.is_(None)) | (PlaylistRefresh.lease_until < now))
        .values(state=REFRESH_CANCELLED, completed_at=now, last_error="stopped by the listener")
        .execution_options(synchronize_session=False)).rowcount


def restorable(living: LivingPlaylist | None) -> bool:
    return (living is not None and living.status == LIVING_ACTIVE and bool(living.previous_tracks)
            and living.restored_at is None)


def restore_previous(user, save: PlaylistSave, now: datetime | None = None) -> PlaylistRefresh:
    """A refresh putting back the version before the last refresh (allowed once per refresh)."""
    living = living_of(save)
    if not restorable(living):
        raise Unprocessable("There is no earlier version of this playlist to bring back.", field="playlist_id")
    now = now or utcnow()
    refresh = PlaylistRefresh(living_id=living.id, user_id=user.id, due_at=now, kind="restore",
                              state=REFRESH_READY, tracks=list(living.previous_tracks),
                              new_count=_new_count(living.tracks, living.previous_tracks))
    db.session.add(refresh)
    living.restored_at = now  # once: a second restore is refused even before this one has run
    db.session.flush()
    return refresh


def _new_count(before: list[dict], after: list[dict]) -> int:
    old = {t["id"] for t in before or ()}
    return sum(1 for t in after or () if t["id"] not in old)


# -- what the listener reads ----------------------------------------------------------------

def local_time(at: datetime, timezone: str) -> datetime:
    return at.replace(tzinfo=UTC).astimezone(_zone(timezone))


def when_text(at: datetime, timezone: str, now: datetime | None = None) -> str:
    """"today at 07:00", "yesterday at 07:00", "on 3 Dec at 07:00" in the listener's time zone."""
    local, today = local_time(at, timezone), local_time(now or utcnow(), timezone).date()
    day = local.date()
    if day == today:
        words = "today"
    elif day == today - timedelta(days=1):
        words = "yesterday"
    elif day == today + timedelta(days=1):
        words = "tomorrow"
    else:
        words = f"on {day.day} {local:%b}"
    return f"{words} at {local:%H:%M}"


def summary(living: LivingPlaylist | None, now: datetime | None = None) -> str | None:
    """The one line history shows: "refreshed today at 07:00 · 20 new tracks", or why it stopped."""
    if living is None:
        return None
    if living.status in (LIVING_GONE, LIVING_PAUSED):
        return living.status_note
    if living.refreshed_at is None:
        if living.every == "off":
            return None
        if living.every == "check-in":
            return "Refreshes after your next check-in from this mood."
        return f"First refresh {when_text(living.next_due_at, living.timezone, now)}."
    count = living.new_tracks
    line = (f"refreshed {when_text(living.refreshed_at, living.timezone, now)} · "
            f"{count} new track{'' if count == 1 else 's'}")
    if living.restored_at is not None and living.restored_at >= living.refreshed_at - timedelta(seconds=1):
        line = f"restored the earlier version {when_text(living.refreshed_at, living.timezone, now)}"
    return line[0].upper() + line[1:]


def every_text(living: LivingPlaylist | None) -> str:
    if living is None or living.every == "off":
        return "Off"
    if living.every == "daily":
        return f"Daily at {living.hour:02d}:00 ({living.timezone})"
    if living.every == "weekly":
        names = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")
        day = names[living.weekday] if living.weekday is not None else "Weekly"
        return f"{day} at {living.hour:02d}:00 ({living.timezone})"
    return "At each check-in from this mood"


def freshness_json(living: LivingPlaylist | None) -> dict:
    """The playlist JSON's `freshness` object."""
    if living is None:
        return {"every": "off", "hour": DEFAULT_HOUR, "timezone": "UTC", "status": LIVING_ACTIVE,
                "next_at": None, "note": None, "new_tracks": 0, "can_restore": False}
    return {"every": living.every, "hour": living.hour, "timezone": living.timezone, "status": living.status,
            "next_at": _iso(living.next_due_at), "note": living.status_note, "new_tracks": living.new_tracks,
            "can_restore": restorable(living)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def refreshed_at(living: LivingPlaylist | None) -> datetime | None:
    return None if living is None else living.refreshed_at


def done_refreshes(living_id: int, limit: int) -> list[PlaylistRefresh]:
    return list(db.session.scalars(
        select(PlaylistRefresh).where(PlaylistRefresh.living_id == living_id, PlaylistRefresh.state == REFRESH_DONE)
        .order_by(PlaylistRefresh.completed_at.desc(), PlaylistRefresh.id.desc()).limit(limit)))
