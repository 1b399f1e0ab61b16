"""Moods to and from YAML files in the shipped `config/moods.yaml` format.

Import is all or nothing: the whole file is validated and compared first, then every changed
mood is saved as a new version in one transaction, so a bad field anywhere changes nothing.
Archived moods are not exported: the engine's mood schema has no `archived` field (it forbids
unknown fields), and an export is meant to be importable anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from curator import audit
from curator.engine import (
    MoodDefinition,
    MoodInvalid,
    dump_moods_yaml,
    load_moods_yaml,
    mood_to_dict,
)
from curator.extensions import db
from curator.models.mood import Mood
from curator.moods.diff import MoodDiff, diff_moods
from curator.moods.store import RESERVED_SLUGS, active_moods, reserved_slug_message, save_version


def export_yaml() -> str:
    """Every active mood, in the curators' order, as YAML that `load_moods_yaml` reads back."""
    return dump_moods_yaml(m.definition for m in active_moods())


def load_file(text: str) -> list[MoodDefinition]:
    """Moods from a file's text; raises MoodInvalid with every problem, reserved slugs included."""
    moods = load_moods_yaml(text)
    reserved = [(f"moods[{i}].slug", reserved_slug_message(m.slug)) for i, m in enumerate(moods)
                if m.slug in RESERVED_SLUGS]
    if reserved:
        raise MoodInvalid(reserved)
    return moods


def validate_text(text: str) -> list[tuple[str, str]]:
    """Every problem in a moods file as (path, message); empty when the file is valid."""
    try:
        load_file(text)
    except MoodInvalid as exc:
        return list(exc.errors)
    return []


@dataclass
class ImportPlan:
    """What an import would do, worked out before anything is written."""

    new: list[MoodDefinition] = field(default_factory=list)
    changed: list[tuple[MoodDefinition, MoodDiff]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    archived: set[str] = field(default_factory=set)  # slugs in the file whose mood is archived here

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.changed)

    def describe(self) -> list[str]:
        """Lines for a terminal: new moods, changed fields per mood, unchanged moods."""
        lines = []
        for mood in self.new:
            lines.append(f"new: {mood.slug} ({mood.name})")
        for mood, diff in self.changed:
            note = " [archived here; stays archived]" if mood.slug in self.archived else ""
            lines.append(f"changed: {mood.slug}{note}")
            lines.extend(f"    {change.text}" for change in diff.changes)
            for name in diff.text_diffs:
                lines.append(f"    {name} text changed")
        if self.unchanged:
            lines.append(f"unchanged: {', '.join(self.unchanged)}")
        return lines


def plan_import(text: str) -> ImportPlan:
    """Validate the whole file and compare it with the database; raises MoodInvalid, writes nothing."""
    moods = load_file(text)
    stored = {m.slug: m for m in db.session.scalars(select(Mood).where(Mood.slug.in_([d.slug for d in moods])))}
    plan = ImportPlan()
    for definition in moods:
        row = stored.get(definition.slug)
        if row is None or row.current_version is None:
            plan.new.append(definition)
            continue
        if row.archived:
            plan.archived.add(definition.slug)
        current = row.current_version.data
        incoming = mood_to_dict(definition)
        if current == incoming:
            plan.unchanged.append(definition.slug)
        else:
            plan.changed.append((definition, diff_moods(current, incoming, old_label="database", new_label="file")))
    return plan


def apply_import(plan: ImportPlan, source: str, *, actor=None) -> int:
    """Add every new and changed mood as a new version; returns how many. Adds and flushes only:
    `curator.moods.service.import_moods` runs it in one transaction."""
    note = f"imported from {source}"[:500]
    for definition in plan.new:
        save_version(mood_to_dict(definition), author=actor, note=note, create=True, action="mood.import")
    for definition, _diff in plan.changed:
        save_version(mood_to_dict(definition), author=actor, note=note, action="mood.import")
    if plan.has_changes:
        audit.record(actor, "moods.import", source, None, {
            "new": [m.slug for m in plan.new],
            "changed": [m.slug for m, _ in plan.changed],
            "unchanged": plan.unchanged,
        })
    return len(plan.new) + len(plan.changed)
