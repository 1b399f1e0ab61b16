"""The mood wheel on the start page: where each named mood sits, the colours around the circle, and
the points a listener already chose (a view helper: geometry only, the moods come from the service).

The SVG is drawn in a 200×200 box: valence runs left (darker) to right (brighter), arousal bottom
(low energy) to top (high energy), and the unit square of (valence, arousal) fits inside the disc,
so every point a listener can choose is on it. listen.js turns a tap into the same form fields the
radio buttons and sliders set (the accessible controls; the drawing only mirrors them).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from curator.engine import wheel

SIZE = 200
CENTRE = SIZE / 2
HALF = 62  # half the side of the (valence, arousal) square inside the disc
RADIUS = 92  # the disc: the square's corners (at HALF·√2 ≈ 88) stay inside


@dataclass(frozen=True)
class Mark:
    slug: str
    name: str
    colour: str
    valence: float
    arousal: float
    x: float
    y: float
    anchor: str  # where its label goes: "start" (right of the dot) or "end" (left of it), away from the centre


def position(valence: float, arousal: float) -> tuple[float, float]:
    """SVG coordinates of a (valence, arousal) point."""
    return CENTRE + (valence - 0.5) * 2 * HALF, CENTRE - (arousal - 0.5) * 2 * HALF


def marks(moods) -> list[Mark]:
    """The named moods (`StoredMood`s) as dots on the wheel."""
    out = []
    for mood in moods:
        m = mood.definition
        x, y = position(m.valence, m.arousal)
        out.append(Mark(m.slug, m.name, m.colour, m.valence, m.arousal, round(x, 1), round(y, 1),
                        "end" if m.valence < 0.5 else "start"))
    return out


def gradient(moods) -> str:
    """A CSS conic gradient with each mood's colour at its angle around the centre."""
    stops = []
    for m in marks(moods):
        angle = math.degrees(math.atan2(m.x - CENTRE, CENTRE - m.y)) % 360
        stops.append((angle, m.colour))
    if not stops:
        return "none"
    stops.sort()
    ring = [*stops, (stops[0][0] + 360, stops[0][1])]
    first = (stops[-1][0] - 360, stops[-1][1])
    return "conic-gradient(" + ", ".join(f"{c} {a:.0f}deg" for a, c in [first, *ring]) + ")"


def chosen_point(value: str) -> tuple[float, float] | None:
    """The (valence, arousal) a start form's `from`/`to` value names, when it is a wheel point."""
    return wheel.parse_point(value or "")
