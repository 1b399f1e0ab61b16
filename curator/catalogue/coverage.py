"""How many of the catalogue's tracks each mood can use: the per-mood coverage that the admin's
dashboard (`health.catalogue_health`) and a refresh's report (`refresh.py`) both count.

Two counts per mood. *Usable* is what a playlist can be made from: tracks with audio features inside
the mood's hard ranges, and of those the ones *close* to its targets (`engine.supply`, the distance
a listener's preview uses when it says a mood is thin), whatever brought them into the catalogue.
*Linked* is where they came from: tracks a seed brought for the mood or a dataset labelled with it
(a label that names no mood links nothing, and says nothing about whether a mood can use a track).

Its own module so that the refresh, which the job runner runs, and the dashboard, which reads the
runner's state, don't import each other.
"""
from __future__ import annotations

from sqlalchemy import func, select, union

from curator.catalogue.errors import CatalogueNotReady
from curator.catalogue.matrix import current_catalogue
from curator.engine.supply import mood_supply as mood_supply_of
from curator.extensions import db
from curator.models.catalogue import CatalogueTrack, TrackSource, TrackTag

MOOD_TAG = "mood:"


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def mood_supply(moods: list) -> dict[str, dict] | None:
    """Per mood (StoredMood: slug and definition), its usable and close tracks in the catalogue
    listeners get previews from (a few milliseconds per mood at 100,000 tracks); None while that
    catalogue's current version is still being prepared."""
    try:
        catalogue = current_catalogue()
    except CatalogueNotReady:
        return None
    out = {}
    for mood in moods:
        supply = mood_supply_of(catalogue, mood.definition)
        out[mood.slug] = {"usable": supply.in_range, "close": supply.close,
                          "usable_percent": percent(supply.in_range, len(catalogue))}
    return out


def mood_coverage(slugs: list[str]) -> list[dict]:
    """Per mood: tracks a seed brought for it or a dataset labelled with it, and how many have features.

    One grouped query for all moods: (track, mood) links from seeds and from mood tags, made
    distinct, joined to the tracks. The refresh report counts with this same function.
    """
    if not slugs:
        return []
    links = union(
        select(TrackSource.track_id.label("track_id"), TrackSource.mood.label("mood"))
        .where(TrackSource.mood.in_(slugs)),
        select(TrackTag.track_id, func.substr(TrackTag.tag, len(MOOD_TAG) + 1))
        .where(TrackTag.tag.in_([MOOD_TAG + slug for slug in slugs])),
    ).subquery()
    query = (select(links.c.mood, func.count(), func.count(CatalogueTrack.features_source))
             .join(CatalogueTrack, CatalogueTrack.id == links.c.track_id)
             .group_by(links.c.mood))
    found = {mood: (int(tracks), int(with_features)) for mood, tracks, with_features in db.session.execute(query)}
    out = []
    for slug in slugs:
        tracks, with_features = found.get(slug, (0, 0))
        out.append({"slug": slug, "tracks": tracks, "with_features": with_features,
                    "percent": percent(with_features, tracks)})
    return out
