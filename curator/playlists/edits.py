"""The listener's edits to a preview: try other tracks, swap one, lock, rename, nudge the arc, end
at another mood, undo the last step. Each makes a new version of the preview (a new row whose
`parent_id` is the one it came from; the old one stays as it was), so "back", undo and the API see
every step.

The rules (what may be edited, what each edit keeps, what the listener is told) live here; the
tracks themselves are always the engine's: every edit that changes tracks is one call of
`curate()` with an `Edit` (`curator.engine.edits`: the locked tracks pinned to their positions,
one position replaced, or what still fits kept after a nudge), made and stored by
`creation.create_preview`, so a change to the engine's scoring reaches the edits too. Helpers of
`curator.playlists.service`: they add rows and never commit. An edit that curates again gets
`library` from the service when the listener's music must be read first.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace

from curator.engine import Edit
from curator.models.listening import Preview
from curator.playlists import preview_store, taste
from curator.playlists.creation import create_preview
from curator.playlists.library import MyMusic
from curator.playlists.preview_request import request_of
from curator.problems import Unprocessable

# Spotify allows long names; a playlist list reads best with short ones.
MAX_NAME = 100
# Options that describe one step (what it changed, whether it was an undo), not the playlist: a
# new version starts without them.
STEP_OPTIONS = ("edit_notice", "changed_positions", "undone")
# Each nudge moves the whole arc (start and target) by these amounts, in raw feature units.
NUDGES: dict[str, dict[str, float]] = {
    "gentler": {"energy": -0.1, "tempo": -8.0, "loudness": -1.5},
    "more-energy": {"energy": 0.1, "tempo": 8.0, "loudness": 1.5},
    "brighter": {"valence": 0.1},
    "darker": {"valence": -0.1},
}
NUDGE_LABELS = {"gentler": "Gentler", "more-energy": "More energy", "brighter": "Brighter", "darker": "Less bright"}
# The furthest the nudges may take the arc from the moods as defined, per feature.
NUDGE_LIMIT = {"energy": 0.3, "valence": 0.3, "tempo": 24.0, "loudness": 4.5}


def add_nudge(current: Mapping[str, float], direction: str) -> dict[str, float]:
    """The accumulated shift after one more nudge `direction` (bounded by NUDGE_LIMIT)."""
    if direction not in NUDGES:
        raise KeyError(direction)
    moved = dict(current)
    for name, delta in NUDGES[direction].items():
        limit = NUDGE_LIMIT[name]
        moved[name] = round(max(-limit, min(limit, moved.get(name, 0.0) + delta)), 4)
    return {k: v for k, v in moved.items() if v != 0}


def changed_positions(before: Sequence[Mapping], after: Sequence[Mapping]) -> list[int]:
    """Positions whose track differs (positions past the shorter list count as changed)."""
    n = max(len(before), len(after))
    return [i for i in range(n) if i >= len(before) or i >= len(after) or before[i]["id"] != after[i]["id"]]


def mean_feature(rows: Sequence[Mapping], name: str) -> float | None:
    values = [float(r["features"][name]) for r in rows if r["features"].get(name) is not None]
    return sum(values) / len(values) if values else None


def locked_positions(preview: Preview) -> dict[int, str]:
    """The preview's locked tracks by position (the engine pins them there)."""
    locked = set(preview.options.get("locked_ids") or ())
    return {i: t["id"] for i, t in enumerate(preview.tracks) if t["id"] in locked}


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
    """The same choices with another seed; locked tracks stay where they are."""
    seed = secrets.randbits(32)
    if seed == preview.seed:
        seed ^= 1
    return create_preview(user, replace(request_of(preview), seed=seed), library=library, parent_id=preview.id,
                          edit=Edit(pinned=locked_positions(preview)))


def without_track(user, preview: Preview, track_id: str) -> Preview:
    """`track_id` out, and in its place the track that best fits that point of the arc; every
    other track stays where it was. The new preview names the swap in `options["edit_notice"]`."""
    _editable(preview)
    position = _position_of(preview, track_id)
    req = request_of(preview)
    # Swapped out: never picked again for this listener (until undone), here or in any later preview.
    taste.never_again(user.id, preview.tracks[position])
    # Out for good (later tries skip it too); asking to swap a kept track lets it go.
    req = replace(req, excluded_ids=tuple(sorted({*req.excluded_ids, track_id})),
                  locked_ids=tuple(i for i in req.locked_ids if i != track_id))
    old = preview.tracks[position]
    locked = {p: t for p, t in locked_positions(preview).items() if p != position}
    edit = Edit(previous=[t["id"] for t in preview.tracks], pinned=locked, replace=position)

    def describe(rows: list[dict]) -> dict:
        if len(rows) < len(preview.tracks):  # the engine left the place empty: nothing else fits
            raise Unprocessable(f"No other track fits this place, so “{old['name']}” stays.", field="track_id")
        return {"edit_notice": f"“{old['name']}” is out; “{rows[position]['name']}” fits this point of the arc best.",
                "changed_positions": changed_positions(preview.tracks, rows)}

    return create_preview(user, req, parent_id=preview.id, edit=edit, describe=describe)


def set_lock(user, preview: Preview, track_id: str, locked: bool) -> Preview:
    """Lock (or unlock) a track so "try other tracks" and nudges keep it: a new version with the
    same tracks (the preview itself stays as it was; nothing to change: the preview itself)."""
    _editable(preview)
    track = preview.tracks[_position_of(preview, track_id)]
    ids = set(preview.options.get("locked_ids") or ())
    wanted = ids | {track_id} if locked else ids - {track_id}
    if wanted == ids:
        return preview
    taste.kept(user.id, track, locked)  # kept tracks count for them
    notice = (f"Kept: “{track['name']}” stays where it is when you try other tracks or shift the arc." if locked
              else f"“{track['name']}” is no longer kept: trying other tracks may change it.")
    return _version(user, preview, {"locked_ids": sorted(wanted), "edit_notice": notice})


def rename(user, preview: Preview, name: str) -> Preview:
    """The name the playlist will have in Spotify (empty: Curator's own "Anxious → Calm · date"):
    a new version with the same tracks (the same name again: the preview itself)."""
    _editable(preview)
    clean = " ".join(str(name or "").split())
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in clean):
        raise Unprocessable("The name has characters a playlist name can't hold.", field="name")
    if len(clean) > MAX_NAME:
        raise Unprocessable(f"Keep the name to {MAX_NAME} characters or fewer.", field="name")
    if clean == (preview.options.get("name") or ""):
        return preview
    return _version(user, preview, {"name": clean or None,
                                    "edit_notice": f"Renamed: it will be saved to Spotify as “{clean}”." if clean else
                                    "The name is Curator's own again (the moods and today's date)."})


def can_undo(preview: Preview) -> bool:
    """Whether this version was made from another that `undo` can bring back (once)."""
    return preview.parent_id is not None and preview.save is None and not preview.options.get("undone")


def undo(user, preview: Preview) -> Preview:
    """The version this one was made from, exactly (its tracks, order, reasons, name, locks and
    nudges), as a new version that says what came back. Once: an undo itself is not undone."""
    _editable(preview)
    previous = preview_store.own_or_none(user, preview.parent_id) if can_undo(preview) else None
    if previous is None:
        raise Unprocessable("There is nothing to undo here.", field=None)
    changed = changed_positions(preview.tracks, previous.tracks)
    back_ids = {t["id"] for t in previous.tracks} - {t["id"] for t in preview.tracks}
    for track_id in back_ids:  # a swap undone: the track it took out may come back after all
        taste.undo_never(user.id, track_id)
    back = f"{len(changed)} track{'s' if len(changed) != 1 else ''} back in place" if changed else "the same tracks"
    options = {k: v for k, v in previous.options.items() if k not in STEP_OPTIONS}
    options.update(undone=True, changed_positions=changed, edit_notice=f"Undone: the playlist as it was before, {back}.")
    return preview_store.add_derived(user, previous, list(previous.tracks), options, parent_id=preview.id)


def _version(user, preview: Preview, changes: dict) -> Preview:
    """A new version of `preview` with the same tracks and `changes` to its options (None removes)."""
    options = {k: v for k, v in preview.options.items() if k not in STEP_OPTIONS}
    options.update(changes)
    return preview_store.add_derived(user, preview, list(preview.tracks),
                                     {k: v for k, v in options.items() if v is not None})


def nudge(user, preview: Preview, direction: str, library: MyMusic | None = None) -> Preview:
    """The same choices with the whole arc shifted (gentler, more energy, brighter, darker): the
    tracks that still fit their moved place stay, locked tracks too, and only the others are
    chosen again. The new preview says what changed in `options["edit_notice"]`."""
    _editable(preview)
    req = request_of(preview)
    try:
        shift = add_nudge(req.nudges, direction)
    except KeyError:
        raise Unprocessable("Choose gentler, more energy, brighter or less bright.", field="direction") from None
    if shift == req.nudges:
        raise Unprocessable(f"The arc is already as far as it goes that way ({NUDGE_LABELS[direction].lower()}).",
                            field="direction")
    edit = Edit(previous=[t["id"] for t in preview.tracks], pinned=locked_positions(preview), keep=True)
    feature = "valence" if direction in ("brighter", "darker") else "energy"
    label = "brightness (valence)" if feature == "valence" else "energy"

    def describe(rows: list[dict]) -> dict:
        changed = changed_positions(preview.tracks, rows)
        before, after = mean_feature(preview.tracks, feature), mean_feature(rows, feature)
        moved = f" average {label} {before:.2f} → {after:.2f};" if before is not None and after is not None else ""
        return {"changed_positions": changed,
                "edit_notice": f"{NUDGE_LABELS[direction]}:{moved} {len(changed)} of {len(rows)} tracks changed."}

    return create_preview(user, replace(req, nudges=shift), library=library, parent_id=preview.id, edit=edit,
                          describe=describe)


def retarget(user, preview: Preview, to_slug: str, *, insist: bool | None = None,
             library: MyMusic | None = None) -> Preview:
    """The same start, ending at another mood (the care offer), or the same with `insist`."""
    req = replace(request_of(preview), to_slug=to_slug, seed=None, locked_ids=())  # another arc: locks lapse
    if insist is not None:
        req = replace(req, insist=insist, seed=preview.seed)
    return create_preview(user, req, library=library, parent_id=preview.id)
