"""The mood wheel: any point of the valence/arousal circle as a mood the engine can curate to.

The named moods sit on the circle at their (valence, arousal) points; a listener may instead tap
where they are between them. A point becomes a mood definition by interpolating its nearest named
moods, each weighted by inverse squared distance on the wheel (at a mood's own point, exactly that
mood): feature targets are the weighted mean of the moods that set them, a feature's importance
the weighted sum (a feature only a distant mood cares about counts little), and a hard range is
kept only when the moods that set it carry most of the weight, widened to hold the target. A mood's
learned term (a classifier of its own) goes only to a point that is mostly that mood.

A point travels as a slug of its own, "point:0.80,0.20" (valence, arousal to two decimals). Mood
slugs can't contain ":", so a point never collides with a curator's mood, and a preview made from
one can be made again, nudged or edited like any other.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence

from curator.engine.catalogue import remember
from curator.engine.moods import FeatureTarget, MoodDefinition

POINT_PREFIX = "point:"
_POINT = re.compile(r"^point:(0(?:\.\d{1,2})?|1(?:\.0{1,2})?),(0(?:\.\d{1,2})?|1(?:\.0{1,2})?)$")
NEIGHBOURS = 3  # named moods a point is made of: the nearest few keep it recognisably theirs
EXACT = 1e-6  # closer than this to a named mood's point is that mood
MIN_WEIGHT = 0.05  # a feature weighing less than this after mixing is left out
RANGE_SHARE = 0.5  # a hard bound is kept when the moods setting it carry at least this share
NEAR_SHARE = 0.6  # the nearest mood carrying this share names the point "Nearly <mood>"


class PointInvalid(ValueError):
    """Not a point of the wheel: valence and arousal are numbers from 0 to 1."""


def point_slug(valence: float, arousal: float) -> str:
    """The slug of a wheel point, both coordinates rounded to two decimals (0..1)."""
    for value in (valence, arousal):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not 0.0 <= value <= 1.0:
            raise PointInvalid("valence and arousal are numbers from 0 to 1")
    return f"{POINT_PREFIX}{_two(valence)},{_two(arousal)}"


def _two(value: float) -> str:
    text = f"{round(float(value), 2):.2f}"
    return "1" if text == "1.00" else text.rstrip("0").rstrip(".") if "." in text else text


def parse_point(slug: str) -> tuple[float, float] | None:
    """(valence, arousal) of a point slug; None for anything else (a named mood's slug)."""
    match = _POINT.match(slug or "")
    return (float(match.group(1)), float(match.group(2))) if match else None


def is_point(slug: str) -> bool:
    return str(slug or "").startswith(POINT_PREFIX)


def neighbours(valence: float, arousal: float, moods: Sequence[MoodDefinition],
               count: int = NEIGHBOURS) -> list[tuple[MoodDefinition, float]]:
    """The `count` nearest named moods with their shares (summing to 1), nearest first."""
    if not moods:
        raise PointInvalid("there are no moods to place a point between")
    by_distance = sorted(moods, key=lambda m: (_distance2(m, valence, arousal), m.slug))[:count]
    nearest = by_distance[0]
    if _distance2(nearest, valence, arousal) < EXACT:
        return [(nearest, 1.0)]
    raw = [1.0 / _distance2(m, valence, arousal) for m in by_distance]
    total = sum(raw)
    return [(m, w / total) for m, w in zip(by_distance, raw, strict=True)]


def _distance2(mood: MoodDefinition, valence: float, arousal: float) -> float:
    return (mood.valence - valence) ** 2 + (mood.arousal - arousal) ** 2


# Points made lately, by the identity of the named moods they were made from (the web app hands
# the engine the same frozen definitions while a mood version is current) and the point: the same
# point asked for again is the same definition, so the engine's memos keyed by a mood's identity
# (arcs, vectors) find it, and building it again (a validated model) is not paid per request.
_POINTS: dict[tuple, tuple[tuple[MoodDefinition, ...], MoodDefinition]] = {}
_POINTS_KEPT = 1024


def mood_at(valence: float, arousal: float, moods: Sequence[MoodDefinition]) -> MoodDefinition:
    """The mood definition of the wheel point (valence, arousal), made from the named `moods`."""
    point_slug(valence, arousal)  # checks the numbers
    named = tuple(moods)
    key = (tuple(map(id, named)), float(valence), float(arousal))
    kept = _POINTS.get(key)
    if kept is not None and all(a is b for a, b in zip(kept[0], named)):
        return kept[1]
    made = _mood_at(valence, arousal, named)
    remember(_POINTS, key, (named, made), _POINTS_KEPT)  # holding the moods keeps their ids unused
    return made


def _mood_at(valence: float, arousal: float, moods: Sequence[MoodDefinition]) -> MoodDefinition:
    mix = neighbours(valence, arousal, moods)
    if len(mix) == 1 and mix[0][1] == 1.0:
        only = mix[0][0]
        return only.model_copy(update={"slug": "point", "valence": valence, "arousal": arousal})
    names = {name for mood, _ in mix for name in mood.features}
    features: dict[str, FeatureTarget] = {}
    for name in sorted(names):
        setting = [(mood.features[name], share) for mood, share in mix if name in mood.features]
        weight = sum(spec.weight * share for spec, share in setting)
        if weight < MIN_WEIGHT:
            continue
        set_share = sum(share for _, share in setting)
        target = sum(spec.target * share for spec, share in setting) / set_share
        low = _bound([(spec.min, share) for spec, share in setting])
        high = _bound([(spec.max, share) for spec, share in setting])
        features[name] = FeatureTarget(target=round(target, 4),
                                       min=None if low is None else round(min(low, target), 4),
                                       max=None if high is None else round(max(high, target), 4),
                                       weight=round(weight, 4))
    nearest, share = mix[0]
    name = f"Nearly {nearest.name.lower()}" if share >= NEAR_SHARE else \
        f"Between {nearest.name.lower()} and {mix[1][0].name.lower()}"
    return MoodDefinition(
        slug="point", name=name[0].upper() + name[1:],
        description=f"A point on the mood wheel, closest to {nearest.name.lower()}.",
        guidance=nearest.guidance, colour=_blend([(m.colour, s) for m, s in mix]),
        valence=valence, arousal=arousal, features=features,
        listener_pull=round(sum(m.listener_pull * s for m, s in mix), 4),
        learned=_learned(nearest, share),
        allow_explicit=all(m.allow_explicit for m, _ in mix),
    )


def _learned(nearest: MoodDefinition, share: float):
    """A learned term is one mood's classifier: its coefficients don't average into another's. A
    point mostly of one mood keeps that mood's term, weighed by the mood's share; others have none."""
    term = nearest.learned
    if term is None or share < NEAR_SHARE:
        return None
    return term.model_copy(update={"weight": round(term.weight * share, 4)})


def _bound(values: list[tuple[float | None, float]]) -> float | None:
    """A bound the mixed moods mostly agree to set: their weighted mean; None when too few set it."""
    present = [(value, share) for value, share in values if value is not None]
    share = sum(s for _, s in present)
    if share < RANGE_SHARE:
        return None
    return sum(value * s for value, s in present) / share


def _blend(colours: list[tuple[str, float]]) -> str:
    channels = [0.0, 0.0, 0.0]
    for colour, share in colours:
        for i in range(3):
            channels[i] += int(colour[1 + 2 * i:3 + 2 * i], 16) * share
    return "#" + "".join(f"{min(255, max(0, round(c))):02x}" for c in channels)
