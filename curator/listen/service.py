"""The listener's use cases, one function each, called alike by the pages (`listen/routes.py`) and
the JSON API (`api/routes.py`), which only parse input, call one of these and render.

Transactions (`curator.transaction`): the service function that performs a use case owns its
transaction. It commits when the use case succeeds and rolls back when it fails; views and API
handlers never commit, and the helpers it calls (`previews`, `records`, `care`,
`curator.moods.store`) only add and flush. One deliberate exception: the save to Spotify
(`saving.py`) commits each step of its journal the moment Spotify has done it, so that a retry
resumes instead of repeating.
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from curator import spotify
from curator.engine import MoodDefinition
from curator.errors import NotFound
from curator.listen import care, previews, records, saving
from curator.listen.charts import arc_chart, mood_mark
from curator.listen.previews import PreviewRequest
from curator.models.listening import CheckIn, PlaylistSave, Preview
from curator.moods.store import StoredMood, active_moods, get_mood
from curator.transaction import transaction

# Colours for a playlist cover when a mood has been removed since the preview was made.
MISSING_START_COLOUR, MISSING_TARGET_COLOUR = "#888888", "#444444"


# -- moods as the listener sees them ---------------------------------------------------------

def mood_definition(slug: str) -> MoodDefinition | None:
    """A mood's current definition, archived ones included; None when it was removed since."""
    try:
        return get_mood(slug, include_archived=True).definition
    except NotFound:
        return None


def choosable_moods() -> list[StoredMood]:
    """The moods a listener can choose, in the curators' order, with their versions."""
    return active_moods()


def mood_definitions() -> list[MoodDefinition]:
    return [m.definition for m in choosable_moods()]


def mood_names() -> dict[str, MoodDefinition]:
    return {m.slug: m for m in mood_definitions()}


def target_care(preview: Preview, target: MoodDefinition | None = None) -> care.TargetCare:
    """The care rule for a preview's target mood (``target``: its definition, when already read)."""
    target = target or mood_definition(preview.to_slug)
    if target is None or not care.is_low_valence(target):  # the other moods are read only when needed
        return care.NO_CARE
    return care.target_care(target, mood_definitions())


# -- previews --------------------------------------------------------------------------------

def get_preview(user, preview_id: str) -> Preview:
    return previews.get_preview(user, preview_id)


def create_preview(user, req: PreviewRequest, gateway=None) -> Preview:
    with transaction(keep_loaded=True):
        return previews.create_preview(user, req, gateway=gateway)


def regenerate(user, preview_id: str, gateway=None) -> Preview:
    """The same choices with another seed."""
    with transaction(keep_loaded=True):
        return previews.regenerate(user, previews.get_preview(user, preview_id), gateway=gateway)


def remove_track(user, preview_id: str, track_id: str, gateway=None) -> Preview:
    with transaction(keep_loaded=True):
        return previews.without_track(user, previews.get_preview(user, preview_id), track_id, gateway=gateway)


def lock_track(user, preview_id: str, track_id: str, locked: bool = True) -> Preview:
    """Keep (or stop keeping) a track when the listener tries other tracks or nudges the arc."""
    with transaction(keep_loaded=True):
        return previews.set_lock(user, previews.get_preview(user, preview_id), track_id, locked)


def rename(user, preview_id: str, name: str) -> Preview:
    """The name the playlist gets in Spotify when it is saved (empty: Curator's own)."""
    with transaction(keep_loaded=True):
        return previews.rename(user, previews.get_preview(user, preview_id), name)


def nudge(user, preview_id: str, direction: str, gateway=None) -> Preview:
    """The whole arc shifted one step (gentler, more-energy, brighter, darker); locks kept."""
    with transaction(keep_loaded=True):
        return previews.nudge(user, previews.get_preview(user, preview_id), direction, gateway=gateway)


def retarget(user, preview_id: str, to_slug: str | None = None, *, insist: bool = False,
             gateway=None) -> Preview:
    """End at another mood (the care offer), or keep the full length at a low target (`insist`)."""
    with transaction(keep_loaded=True):
        item = previews.get_preview(user, preview_id)
        if insist:
            return previews.retarget(user, item, item.to_slug, insist=True, gateway=gateway)
        return previews.retarget(user, item, to_slug or "", gateway=gateway)


@dataclass(frozen=True)
class PreviewPage:
    preview: Preview
    start: MoodDefinition | None
    target: MoodDefinition | None
    chart: Markup
    care: care.TargetCare
    hold_capped: bool
    hold_note: str | None = None  # the hold cap's note, shown once beside the length (not in the notices)
    # A save that stopped half-way (its playlist may be in Spotify, not yet full): "finish saving".
    unfinished_save: PlaylistSave | None = None


def preview_page(user, preview_id: str) -> PreviewPage:
    """A preview with its moods, chart and care note, as the preview page shows it."""
    item = previews.get_preview(user, preview_id)
    start, target = mood_definition(item.from_slug), mood_definition(item.to_slug)
    chart = arc_chart(item.tracks, mood_mark(start, item.from_slug), mood_mark(target, item.to_slug))
    hold = care.hold_cap(target, item.arc, item.length_tracks, item.length_minutes,
                         bool(item.options.get("insist"))) if target is not None else None
    advice = care.target_care(target, mood_definitions()) if target is not None else care.NO_CARE
    return PreviewPage(item, start, target, chart, advice, hold is not None and hold.tracks is not None,
                       hold.note if hold is not None else None, unfinished_save(item))


# -- saving to Spotify -----------------------------------------------------------------------

def unfinished_save(preview: Preview) -> PlaylistSave | None:
    """The preview's save when it stopped half-way; saving again ("finish saving") resumes it."""
    return saving.unfinished(preview)


def colours_for(preview: Preview) -> tuple[str, str]:
    start, target = mood_definition(preview.from_slug), mood_definition(preview.to_slug)
    return (start.colour if start else MISSING_START_COLOUR, target.colour if target else MISSING_TARGET_COLOUR)


def save_preview(user, preview: Preview, key: str | None = None, gateway=None) -> saving.SaveOutcome:
    """Save the preview to the listener's Spotify account, exactly once (see `saving`)."""
    start, target = mood_definition(preview.from_slug), mood_definition(preview.to_slug)
    return saving.save_to_spotify(
        user, preview, gateway or spotify.user_gateway(), key=key,
        start_name=start.name if start else preview.from_slug,
        target_name=target.name if target else preview.to_slug, colours=colours_for(preview))


# -- the listener's records ------------------------------------------------------------------

def saved_playlists(user_id: int) -> list[records.SavedPlaylist]:
    return records.saved_playlists(user_id)


def sessions_by_pair(user_id: int):
    return records.sessions_by_pair(user_id)


# The history page is bounded whatever the listener's total: a page of cards, a window of charts.
CHART_SESSIONS = records.CHART_SESSIONS


def history_page(user_id: int, page: int = 1) -> records.HistoryPage:
    return records.history_page(user_id, page)


def recent_sessions_by_pair(user_id: int):
    return records.recent_sessions_by_pair(user_id)


def record_checkin(user, *, rating, preview_id: str, moment: str = "after") -> CheckIn:
    """How strongly the listener feels it now, about one of their previews."""
    with transaction():
        item = previews.get_preview(user, preview_id)
        return records.record_checkin(user, rating=rating, moment=moment, preview=item)


def delete_history(user_id: int) -> int:
    """Forget previews, saves and check-ins; returns how many previews were removed."""
    with transaction():
        return records.delete_history(user_id)


def delete_account(user) -> None:
    with transaction():
        records.delete_account(user)
