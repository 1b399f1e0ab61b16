"""Care rules: Curator supports well-being; it does not treat anything.

Lingering in sad music can deepen a low mood, so a low-valence *target* is met with a gentle
note and an offer to end somewhere lifting instead, and the "hold" arc at such a target is kept
short unless the listener says they know and want it anyway. Pure functions over mood
definitions, applied by the playlists service for the pages and the API alike.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from curator.engine import MoodDefinition

# Moods whose circumplex valence is below this count as low (anxious, angry, melancholic).
LOW_VALENCE = 0.3
# "hold" at a low-valence target is capped at this many tracks unless the listener insists.
HOLD_CAP_TRACKS = 5
# Preferred moods to offer as a lifting end point, when they exist.
LIFTING_PREFERENCE = ("calm", "uplifted")


def is_low_valence(mood: MoodDefinition) -> bool:
    return mood.valence < LOW_VALENCE


def lifting_alternatives(moods: Sequence[MoodDefinition], exclude: str = "", limit: int = 2) -> list[MoodDefinition]:
    """Moods to offer as a lifting end point: the preferred ones, else the highest-valence ones."""
    usable = [m for m in moods if m.slug != exclude and not is_low_valence(m)]
    preferred = [m for slug in LIFTING_PREFERENCE for m in usable if m.slug == slug]
    if preferred:
        return preferred[:limit]
    return sorted(usable, key=lambda m: -m.valence)[:limit]


@dataclass(frozen=True)
class HoldDecision:
    tracks: int | None  # the capped length in tracks, or None when no cap applies
    note: str | None


def hold_cap(target: MoodDefinition, arc: str, tracks: int | None, minutes: float | None,
             insist: bool) -> HoldDecision:
    """Whether to shorten a "hold" at a low-valence target; `tracks`/`minutes` is the asked length."""
    if arc != "hold" or not is_low_valence(target) or insist:
        return HoldDecision(None, None)
    if tracks is not None and tracks <= HOLD_CAP_TRACKS:
        return HoldDecision(None, None)
    if minutes is not None and minutes <= HOLD_CAP_TRACKS * 3:
        return HoldDecision(None, None)
    return HoldDecision(HOLD_CAP_TRACKS, hold_note(target))


def hold_note(target: MoodDefinition) -> str:
    """What a capped "hold" tells the listener (stored with the preview, shown beside its length)."""
    return (f"Staying with {target.name.lower()} music for a long time can deepen a low mood, so this "
            f"playlist stays there for {HOLD_CAP_TRACKS} tracks. If you know that and want the full length, "
            "you can keep it.")


@dataclass(frozen=True)
class TargetCare:
    """What the care rule says about a playlist's target mood (pages and the API show the same)."""

    low_valence: bool
    note: str | None
    alternatives: list[MoodDefinition]


NO_CARE = TargetCare(False, None, [])


def target_care(target: MoodDefinition | None, moods: Sequence[MoodDefinition]) -> TargetCare:
    """A low-valence target gets a gentle note and up to two lifting moods to end at instead."""
    if target is None or not is_low_valence(target):
        return NO_CARE
    note = (f"You chose to end at {target.name.lower()}. That's okay: music that matches a feeling can "
            "help you feel understood. Lingering there can also deepen a low mood, so you might prefer "
            "an arc that ends somewhere lighter.")
    return TargetCare(True, note, lifting_alternatives(moods, exclude=target.slug))
