"""Refitting moods' learned terms from labelled CSVs (`flask moods calibrate`), saved as new versions.

Like an import, a refit is planned first (every fit made and compared, nothing written), then
saved in one transaction (`curator.moods.service.refit_moods`), so a failure part-way changes nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from curator import audit
from curator.engine import MoodDefinition, mood_to_dict
from curator.engine.learned import Fit
from curator.moods.diff import MoodDiff, diff_moods
from curator.moods.labelled import LabelledSet, fit_mood
from curator.moods.store import active_moods, save_version
from curator.problems import Unprocessable

DEFAULT_WEIGHT = 0.5


class RefitInvalid(Unprocessable):
    """A refit cannot be planned (an unknown mood, a mapping to no mood); the message says why."""


@dataclass
class RefitPlan:
    changed: list[tuple[MoodDefinition, Fit, MoodDiff]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = []
        for mood, fit, diff in self.changed:
            lines.append(f"refitted: {mood.slug} ({fit.term.describe()}; weight {fit.term.weight:g})")
            lines.append(f"    {fit.term.source}")
            lines.extend(f"    {change.text}" for change in diff.changes)
        if self.unchanged:
            lines.append(f"unchanged: {', '.join(self.unchanged)}")
        if self.unlabelled:
            lines.append(f"not labelled in these files: {', '.join(self.unlabelled)}")
        return lines


def plan_refit(sets: list[LabelledSet], *, slugs: list[str] | None = None, mapping: Mapping[str, str] | None = None,
               weight: float | None = None) -> RefitPlan:
    """Fit every chosen active mood that the sets label; nothing is written."""
    moods = {m.slug: m.definition for m in active_moods()}
    unknown = [s for s in (slugs or []) + list((mapping or {}).values()) if s not in moods]
    if unknown:
        raise RefitInvalid(f"no active mood called {', '.join(sorted(set(unknown)))}; "
                           f"moods are {', '.join(moods)}")
    plan = RefitPlan()
    for slug in slugs or list(moods):
        mood = moods[slug]
        chosen = weight if weight is not None else (mood.learned.weight if mood.learned else DEFAULT_WEIGHT)
        fit = fit_mood(mood, sets, weight=chosen, mapping=mapping)
        if fit is None:
            plan.unlabelled.append(slug)
            continue
        refitted = mood.model_copy(update={"learned": fit.term})
        before, after = mood_to_dict(mood), mood_to_dict(refitted)
        if before == after:
            plan.unchanged.append(slug)
        else:
            plan.changed.append((refitted, fit, diff_moods(before, after, old_label="current", new_label="refitted")))
    return plan


def apply_refit(plan: RefitPlan, source: str, *, actor=None) -> int:
    """Add every refitted mood as a new version; returns how many. Adds and flushes only:
    `curator.moods.service.refit_moods` runs it in one transaction."""
    note = f"learned term refitted from {source}"[:500]
    for mood, _fit, _diff in plan.changed:
        save_version(mood_to_dict(mood), author=actor, note=note, action="mood.calibrate")
    audit.record(actor, "moods.calibrate", source, None, {"refitted": [m.slug for m, _, _ in plan.changed]})
    return len(plan.changed)
