"""Server-side SVG charts: the arc of a preview and how check-ins moved over time.

Plain SVG text (no scripts, no external resources), with `role="img"`, `<title>` and `<desc>`;
templates add a data table of the same values as the text alternative. Every plotted point
carries its values as data attributes, so tests can check the chart against the track list.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 64, 40, 44
# Mid-tone lines that read on the light and the dark theme alike; text and grid take the page's
# colour (currentColor), so the chart follows the theme.
ENERGY_COLOUR, VALENCE_COLOUR, TEMPO_COLOUR = "#d4601c", "#3d6fe0", "currentColor"


@dataclass(frozen=True)
class MoodMark:
    name: str
    colour: str
    energy: float | None
    valence: float | None


def mood_mark(mood, fallback_name: str = "", fallback_colour: str = "#999999") -> MoodMark:
    """Where a chart draws a mood (a `MoodDefinition`): its energy and valence feature targets,
    when it has them; a mood that no longer exists is drawn by name only."""
    if mood is None:
        return MoodMark(fallback_name, fallback_colour, None, None)

    def target(name: str) -> float | None:
        spec = mood.features.get(name)
        return spec.target if spec is not None else None

    return MoodMark(mood.name, mood.colour, target("energy"), target("valence"))


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _polyline(points: list[tuple[float, float]], colour: str, dash: str = "", width: float = 2.5,
              opacity: float = 1.0) -> str:
    if len(points) < 2:
        return ""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<polyline fill="none" stroke="{colour}" stroke-width="{width}"{dash_attr} '
            f'stroke-opacity="{opacity}" points="{coords}"/>')


def tempo_range(tempos: Sequence[float]) -> tuple[float, float]:
    """A tidy BPM axis around the values (multiples of 20, at least 60 BPM tall)."""
    if not tempos:
        return 60.0, 180.0
    lo = (min(tempos) // 20) * 20
    hi = -(-max(tempos) // 20) * 20
    if hi - lo < 60:
        hi = lo + 60
    return float(lo), float(hi)


def arc_chart(tracks: Sequence[dict], start: MoodMark, target: MoodMark, chart_id: str = "arc") -> Markup:
    """Energy and valence (left axis, 0..1) and tempo (right axis, BPM) per position.

    `tracks` are preview rows (`name`, `features` with energy/valence/tempo, `position_target`).
    The start and target moods are marked at the left and right edges.
    """
    n = len(tracks)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    # Positions sit between the two mood marks, which take the outermost slots.
    slots = n + 1

    def x_at(slot: float) -> float:
        return LEFT + plot_w * slot / slots

    def y_unit(value: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(1.0, value)))

    tempos = [float(t["features"].get("tempo") or 0) for t in tracks]
    t_lo, t_hi = tempo_range(tempos)

    def y_tempo(bpm: float) -> float:
        return TOP + plot_h * (1 - (bpm - t_lo) / (t_hi - t_lo))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="arc-chart" data-tracks="{n}">',
        f'<title id="{chart_id}-title">The arc from {escape(start.name)} to {escape(target.name)}</title>',
        f'<desc id="{chart_id}-desc">Energy and valence (0 to 1, left axis) and tempo (beats per minute, '
        f'right axis) for each of the {n} tracks in order, from the {escape(start.name)} mood on the left to '
        f'the {escape(target.name)} mood on the right. The table below the chart lists the same values.</desc>',
    ]
    # Grid and axes.
    for i in range(6):
        value = i / 5
        y = y_unit(value)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" stroke-opacity="0.2" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="currentColor">{_fmt(value)}</text>')
        bpm = t_lo + (t_hi - t_lo) * value
        parts.append(f'<text x="{WIDTH - RIGHT + 8}" y="{y + 4:.1f}" font-size="12" fill="{TEMPO_COLOUR}">{_fmt(bpm)}</text>')
    parts.append(f'<text class="axis-unit" x="{LEFT - 8}" y="{TOP - 14}" text-anchor="end" font-size="12" '
                 f'fill="currentColor">0–1</text>')
    parts.append(f'<text class="axis-unit" x="{WIDTH - RIGHT + 8}" y="{TOP - 14}" font-size="12" '
                 f'fill="{TEMPO_COLOUR}">BPM</text>')
    step = max(1, n // 10)
    for i in range(n):
        if i % step == 0 or i == n - 1:
            parts.append(f'<text x="{x_at(i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
                         f'font-size="12" fill="currentColor">{i + 1}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="12" '
                 f'fill="currentColor">track position</text>')

    # Mood marks: a coloured band and diamonds at the mood's energy and valence targets.
    for mark, slot, anchor, role in ((start, 0.0, "start", "start"), (target, float(slots - 0.5), "end", "target")):
        band_x = x_at(slot) if role == "start" else x_at(slots - 0.5)
        parts.append(f'<rect x="{band_x:.1f}" y="{TOP}" width="{plot_w / slots / 2:.1f}" height="{plot_h}" '
                     f'fill="{escape(mark.colour)}" fill-opacity="0.18" data-mood="{role}"/>')
        cx = band_x + plot_w / slots / 4
        label_x = LEFT if role == "start" else WIDTH - RIGHT
        parts.append(f'<text x="{label_x:.1f}" y="{TOP - 14}" text-anchor="{anchor}" font-size="13" '
                     f'font-weight="600" fill="currentColor">{"Start" if role == "start" else "Target"}: {escape(mark.name)}</text>')
        for value, colour in ((mark.energy, ENERGY_COLOUR), (mark.valence, VALENCE_COLOUR)):
            if value is None:
                continue
            y = y_unit(value)
            parts.append(f'<path d="M{cx:.1f},{y - 7:.1f} L{cx + 7:.1f},{y:.1f} L{cx:.1f},{y + 7:.1f} '
                         f'L{cx - 7:.1f},{y:.1f} Z" fill="{escape(mark.colour)}" stroke="{colour}" stroke-width="2"/>')

    # The planned arc (faint) and the chosen tracks (bold).
    for key, colour in (("energy", ENERGY_COLOUR), ("valence", VALENCE_COLOUR)):
        planned = [(x_at(i + 0.5), y_unit(float(t["position_target"][key])))
                   for i, t in enumerate(tracks) if t.get("position_target", {}).get(key) is not None]
        if len(planned) == n:
            parts.append(_polyline(planned, colour, dash="2 5", width=1.5, opacity=0.55))
    energy = [(x_at(i + 0.5), y_unit(float(t["features"]["energy"]))) for i, t in enumerate(tracks)]
    valence = [(x_at(i + 0.5), y_unit(float(t["features"]["valence"]))) for i, t in enumerate(tracks)]
    tempo = [(x_at(i + 0.5), y_tempo(bpm)) for i, bpm in enumerate(tempos)]
    parts.append(_polyline(tempo, TEMPO_COLOUR, dash="1 4", width=2))
    parts.append(_polyline(energy, ENERGY_COLOUR))
    parts.append(_polyline(valence, VALENCE_COLOUR, dash="8 4"))
    for i, t in enumerate(tracks):
        f = t["features"]
        x = x_at(i + 0.5)
        label = (f'{i + 1}. {escape(t["name"])}: energy {float(f["energy"]):.2f}, '
                 f'valence {float(f["valence"]):.2f}, {tempos[i]:.0f} BPM')
        parts.append(
            f'<g class="point" data-position="{i + 1}" data-id="{escape(t["id"])}" '
            f'data-energy="{float(f["energy"]):.4f}" data-valence="{float(f["valence"]):.4f}" '
            f'data-tempo="{tempos[i]:.2f}"><title>{label}</title>'
            f'<circle cx="{x:.1f}" cy="{energy[i][1]:.1f}" r="4.5" fill="{ENERGY_COLOUR}"/>'
            f'<rect x="{x - 4:.1f}" y="{valence[i][1] - 4:.1f}" width="8" height="8" fill="{VALENCE_COLOUR}"/>'
            f'<circle cx="{x:.1f}" cy="{tempo[i][1]:.1f}" r="3" fill="none" stroke="{TEMPO_COLOUR}" stroke-width="1.5"/></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def checkin_chart(sessions: Sequence[dict], title: str, chart_id: str) -> Markup:
    """Before/after ratings (1-5) per listening session, oldest first.

    `sessions`: dicts with `label` (a date), `before` and `after` (int or None).
    """
    width, height = 520, 200
    left, right, top, bottom = 40, 16, 24, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(sessions), 1)

    def x_at(i: int) -> float:
        return left + plot_w * (i + 0.5) / n

    def y_at(rating: float) -> float:
        return top + plot_h * (1 - (rating - 1) / 4)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="checkin-chart">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">How strongly you felt it, from 1 to 5, before (hollow circle) and after '
        f'(filled circle) each of {len(sessions)} listening sessions, oldest first. The table lists the same values.</desc>',
    ]
    for rating in range(1, 6):
        y = y_at(rating)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" stroke-opacity="0.2"/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="currentColor">{rating}</text>')
    for i, s in enumerate(sessions):
        x = x_at(i)
        before, after = s.get("before"), s.get("after")
        parts.append(f'<g class="session" data-before="{before if before is not None else ""}" '
                     f'data-after="{after if after is not None else ""}">')
        if before is not None and after is not None:
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_at(before):.1f}" y2="{y_at(after):.1f}" '
                         f'stroke="#7a5cf0" stroke-width="2"/>')
        if before is not None:
            parts.append(f'<circle cx="{x:.1f}" cy="{y_at(before):.1f}" r="5" fill="#fff" stroke="#7a5cf0" stroke-width="2"/>')
        if after is not None:
            parts.append(f'<circle cx="{x:.1f}" cy="{y_at(after):.1f}" r="5" fill="#7a5cf0"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 14}" text-anchor="middle" font-size="11" '
                     f'fill="currentColor">{escape(s.get("label", ""))}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


BAND_W, BAND_H = 320, 124
BAND_PAD_X, BAND_TOP, BAND_BOTTOM = 10, 18, 16


def arc_band(tracks: Sequence[dict], start: MoodMark, target: MoodMark, changed: Sequence[int] = (),
             chart_id: str = "band") -> Markup:
    """The preview's hero: a colour band from the start mood's colour to the target's along the
    planned energy of each position, with each track placed on it at its own energy.

    `changed`: positions the listener's last edit changed (drawn with a ring). Each track's dot
    carries its id and position, so tests can check the drawing against the list.
    """
    n = len(tracks)
    plot_w, plot_h = BAND_W - 2 * BAND_PAD_X, BAND_H - BAND_TOP - BAND_BOTTOM

    def x_at(i: int) -> float:
        return BAND_PAD_X + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y_at(value: float) -> float:
        return BAND_TOP + plot_h * (1 - max(0.0, min(1.0, value)))

    def energy(t: dict, planned: bool) -> float:
        source = t.get("position_target", {}) if planned else {}
        value = source.get("energy", t["features"].get("energy"))
        return float(value if value is not None else 0.5)

    planned = [(x_at(i), y_at(energy(t, True))) for i, t in enumerate(tracks)]
    grad = f"{chart_id}-grad"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {BAND_W} {BAND_H}" role="img" class="arc-band" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" data-tracks="{n}">',
        f'<title id="{chart_id}-title">The arc from {escape(start.name)} to {escape(target.name)}</title>',
        f'<desc id="{chart_id}-desc">A band from the {escape(start.name)} colour to the {escape(target.name)} '
        f'colour along the planned energy of each of the {n} tracks, each track a dot at its own energy. '
        f'The list below names every track.</desc>',
        f'<defs><linearGradient id="{grad}" x1="0" x2="1" y1="0" y2="0">'
        f'<stop offset="0" stop-color="{escape(start.colour)}"/><stop offset="1" stop-color="{escape(target.colour)}"/>'
        f'</linearGradient></defs>',
        f'<text class="axis-label" x="{BAND_PAD_X}" y="10">more energy</text>',
        f'<text class="axis-label" x="{BAND_PAD_X}" y="{BAND_H - 3}">less energy</text>',
    ]
    if n > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(planned))
        parts.append(f'<path class="band" d="{path}" fill="none" stroke="url(#{grad})" stroke-width="22" '
                     f'stroke-linecap="round" stroke-linejoin="round"/>')
    changed_set = set(changed)
    for i, t in enumerate(tracks):
        share = i / (n - 1) if n > 1 else 0.5
        colour = _mix(start.colour, target.colour, share)
        ring = " changed" if i in changed_set else ""
        parts.append(f'<circle class="dot{ring}" cx="{x_at(i):.1f}" cy="{y_at(energy(t, False)):.1f}" r="5.5" '
                     f'fill="{colour}" data-position="{i + 1}" data-id="{escape(t["id"])}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _mix(a: str, b: str, share: float) -> str:
    """The colour `share` of the way from `a` to `b` (hex, #rrggbb); `a` when either isn't one."""
    try:
        ca = [int(a[1 + 2 * k:3 + 2 * k], 16) for k in range(3)]
        cb = [int(b[1 + 2 * k:3 + 2 * k], 16) for k in range(3)]
    except (ValueError, IndexError):
        return a
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(ca, cb, strict=True))
