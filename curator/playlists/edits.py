"""The listener's edits to a preview: try other tracks, swap one, lock, rename, nudge the arc, end
at another mood. Each (but lock and rename, which only change options) makes a new preview from the
old one, so "back" and the API see every step.

The rules (what may be edited, what each edit keeps) live here; the arithmetic over the catalogue
is `editing`'s. Helpers of `curator.playlists.service`: they add rows and never commit. An edit
that curates again gets `library` from the service when the listener's music must be read first.
"""
from __future__ import annotations

import secrets
from dataclasses import replace

from curator.catalogue.matrix import current_catalogue
from curator.engine.arc import build_arc
from curator.extensions import db
from curator.models.listening import Preview
from curator.playlists import editing, preview_store, taste
from curator.playlists.creation import create_preview, mood_of
from curator.playlists.library import MyMusic
from curator.playlists.preview_request import request_of
from curator.problems import Unprocessable

# Spotify allows long names; a playlist list reads best with short ones.
MAX_NAME = 100


def locked_rows(preview: Preview) -> dict[int, dict]:
    """The preview's locked tracks by position."""
    locked = set(preview.options.get("locked_ids") or ())
    return {i: t for i, t in enumerate(preview.tracks) if t["id"] in locked}


def _position_of(preview: Preview, track_id: str) -> int:
    for i, t in enumerate(preview.tracks):
        if t["id"] == track_id:
            return i
    raise Unprocessable("That track is not in this playlist.", field="track_id")


def _editable(preview: Preview) -> None:
    if preview.saved:
        raise Unprocessable("This playlist is already saved to Spotify; make a new one to change it.",
                            field="track_id")
    if preview.save is not None:  # begun, not finished: an edit would leave that playlist half made
        raise Unprocessable("Saving this playlist has begun; finish saving it first, then make a new one "
                            "to change it.", field="track_id")


def regenerate(user, preview: Preview, library: MyMusic | None = None) -> Preview:
    """The same choices with another seed; locked tracks stay."""
    seed = secrets.randbits(32)
    if seed == preview.seed:
        seed ^= 1
    return create_preview(user, replace(request_of(preview), seed=seed), library=library, parent_id=preview.id,
                          pinned=locked_rows(preview))


def without_track(user, preview: Preview, track_id: str) -> Preview:
    """`track_id` out, and in its place the track that best fits that point of the arc; every
    other track stays where it was. The new preview names the swap in `options["edit_notice"]`."""
    _editable(preview)
    position = _position_of(preview, track_id)
    req = request_of(preview)
    start = mood_of(req.from_slug, "from").definition
    target = mood_of(req.to_slug, "to").definition
    start, target = editing.nudged(start, req.nudges), editing.nudged(target, req.nudges)
    catalogue = current_catalogue()
    # Swapped out: never picked again for this listener (until undone), here or in any later preview.
    taste.never_again(user.id, preview.tracks[position])
    excluded = {*req.excluded_ids, track_id} | taste.never_ids(user.id) | taste.avoided_ids(
        catalogue, req.avoid_artists)
    if req.avoid_recent:
        excluded |= preview_store.recent_track_ids(user.id)
    rows = list(preview.tracks)
    arc = build_arc(start, target, len(rows), preview.arc)
    try:
        row = editing.best_replacement(
            catalogue, arc, position, rows, exclude_ids=frozenset(excluded),
            candidate_ids=frozenset(req.library_ids) if req.from_my_music and req.library_ids else None,
            exclude_explicit=req.exclude_explicit)
    except editing.NoReplacement:
        raise Unprocessable(f"No other track fits this place, so “{rows[position]['name']}” stays.",
                            field="track_id") from None
    rows[position] = editing.track_row(catalogue, row, position, arc, catalogue.images[row])
    rows = editing.with_reasons(rows, arc, start.name, target.name)
    old_name, new_name = preview.tracks[position]["name"], rows[position]["name"]
    options = {**preview.options, "excluded_ids": sorted({*req.excluded_ids, track_id}),
               "edit_notice": f"“{old_name}” is out; “{new_name}” fits this point of the arc best.",
               "changed_positions": [position]}
    return preview_store.add_derived(user, preview, rows, options)


def set_lock(user, preview: Preview, track_id: str, locked: bool) -> Preview:
    """Lock (or unlock) a track so "try other tracks" and nudges keep it. Changes only options."""
    _editable(preview)
    _position_of(preview, track_id)
    ids = set(preview.options.get("locked_ids") or ())
    ids = ids | {track_id} if locked else ids - {track_id}
    taste.kept(user.id, preview.tracks[_position_of(preview, track_id)], locked)  # kept tracks count for them
    options = {k: v for k, v in preview.options.items() if k not in ("edit_notice", "changed_positions")}
    preview.options = {**options, "locked_ids": sorted(ids)}  # a new dict: JSON change tracking
    db.session.flush()
    return preview


def rename(user, preview: Preview, name: str) -> Preview:
    """The name the playlist will have in Spotify (empty: Curator's own "Anxious → Calm · date")."""
    _editable(preview)
    clean = " ".join(str(name or "").split())
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in clean):
        raise Unprocessable("The name has characters a playlist name can't hold.", field="name")
    if len(clean) > MAX_NAME:
        raise Unprocessable(f"Keep the name to {MAX_NAME} characters or fewer.", field="name")
    options = {k: v for k, v in preview.options.items() if k not in ("name", "edit_notice", "changed_positions")}
    if clean:
        options["name"] = clean
    options["edit_notice"] = (f"Renamed: it will be saved to Spotify as “{clean}”." if clean else
                              "The name is Curator's own again (the moods and today's date).")
    preview.options = options
    db.session.flush()
    return preview


def nudge(user, preview: Preview, direction: str, library: MyMusic | None = None) -> Preview:
    """The same choices with the whole arc shifted (gentler, more energy, brighter, darker);
    locked tracks stay. The new preview says what changed in `options["edit_notice"]`."""
    _editable(preview)
    req = request_of(preview)
    try:
        shift = editing.add_nudge(req.nudges, direction)
    except KeyError:
        raise Unprocessable("Choose gentler, more energy, brighter or less bright.", field="direction") from None
    if shift == req.nudges:
        raise Unprocessable(f"The arc is already as far as it goes that way ({editing.NUDGE_LABELS[direction].lower()}).",
                            field="direction")
    new = create_preview(user, replace(req, nudges=shift), library=library, parent_id=preview.id,
                         pinned=locked_rows(preview))
    changed = editing.changed_positions(preview.tracks, new.tracks)
    feature = "valence" if direction in ("brighter", "darker") else "energy"
    before, after = editing.mean_feature(preview.tracks, feature), editing.mean_feature(new.tracks, feature)
    label = "brightness (valence)" if feature == "valence" else "energy"
    moved = f" average {label} {before:.2f} → {after:.2f};" if before is not None and after is not None else ""
    new.options = {**new.options, "changed_positions": changed,
                   "edit_notice": f"{editing.NUDGE_LABELS[direction]}:{moved} "
                                  f"{len(changed)} of {len(new.tracks)} tracks changed."}
    db.session.flush()
    return new


def retarget(user, preview: Preview, to_slug: str, *, insist: bool | None = None,
             library: MyMusic | None = None) -> Preview:
    """The same start, ending at another mood (the care offer), or the same with `insist`."""
    req = replace(request_of(preview), to_slug=to_slug, seed=None, locked_ids=())  # another arc: locks lapse
    if insist is not None:
        req = replace(req, insist=insist, seed=preview.seed)
    return create_preview(user, req, library=library, parent_id=preview.id)
