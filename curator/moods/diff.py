"""A readable, field-by-field difference between two mood definitions.

Curators compare versions to decide whether to roll back or to keep their own edit after a
conflict, so every change is a sentence ("tempo target 72 → 68"), and the long prose fields
(guidance, description) get a unified text diff split at sentences, where edits usually happen.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from curator.engine import FEATURES, MoodDefinition
from curator.engine.learned import LearnedTerm

# Prose, compared as text; and the structured parts, compared key by key below.
TEXT_FIELDS = ("description", "guidance")
STRUCTURED_FIELDS = ("features", "learned")
# Every other field of a mood, in the schema's order, read from the schema itself: a field added to
# `MoodDefinition` shows in diffs and history without a change here.
SCALAR_FIELDS = tuple(name for name in MoodDefinition.model_fields if name not in (*TEXT_FIELDS, *STRUCTURED_FIELDS))
# Fields whose absence means their default (older versions and files leave them out).
DEFAULTS = {name: spec.default for name, spec in MoodDefinition.model_fields.items()
            if name in SCALAR_FIELDS and not spec.is_required()}
FEATURE_KEYS = ("target", "min", "max", "weight")

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Change:
    """One difference. `kind` is "changed", "added" or "removed"; `path` matches editor field names."""

    path: str
    kind: str
    old: object = None
    new: object = None

    @property
    def text(self) -> str:
        label = self.path.removeprefix("features.").replace(".", " ")
        if self.kind == "added":
            return f"{label} added: {_show(self.new)}"
        if self.kind == "removed":
            return f"{label} removed (was {_show(self.old)})"
        return f"{label} {_show(self.old)} → {_show(self.new)}"


@dataclass(frozen=True)
class MoodDiff:
    changes: list[Change] = field(default_factory=list)
    # field name -> unified diff lines, only for prose fields that changed
    text_diffs: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.changes and not self.text_diffs


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        parts = [f"{k} {_show(value[k])}" for k in FEATURE_KEYS if value.get(k) is not None]
        return ", ".join(parts)
    return str(value)


def _sentences(text: str) -> list[str]:
    lines: list[str] = []
    for line in (text or "").splitlines():
        lines.extend(s for s in _SENTENCE_END.split(line.strip()) if s)
    return lines


def _feature_order(old: dict, new: dict) -> list[str]:
    known = [f for f in FEATURES if f in old or f in new]
    return known + sorted((set(old) | set(new)) - set(known))


def diff_moods(old: dict, new: dict, *, old_label: str = "before", new_label: str = "after") -> MoodDiff:
    """Differences from `old` to `new` (mood dicts in the stored/YAML shape)."""
    changes: list[Change] = []
    for name in SCALAR_FIELDS:
        a, b = old.get(name, DEFAULTS.get(name)), new.get(name, DEFAULTS.get(name))
        if a != b:
            changes.append(Change(name, "changed" if a is not None and b is not None else
                                  ("added" if a is None else "removed"), a, b))
    old_features, new_features = old.get("features") or {}, new.get("features") or {}
    for feature in _feature_order(old_features, new_features):
        a, b = old_features.get(feature), new_features.get(feature)
        path = f"features.{feature}"
        if a is None:
            changes.append(Change(path, "added", None, b))
        elif b is None:
            changes.append(Change(path, "removed", a, None))
        else:
            for key in FEATURE_KEYS:
                x, y = a.get(key), b.get(key)
                if x == y:
                    continue
                kind = "changed" if x is not None and y is not None else ("added" if x is None else "removed")
                changes.append(Change(f"{path}.{key}", kind, x, y))
    changes.extend(_learned_changes(old.get("learned"), new.get("learned")))
    text_diffs: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        a, b = old.get(name) or "", new.get(name) or ""
        if a != b:
            text_diffs[name] = list(difflib.unified_diff(
                _sentences(a), _sentences(b), fromfile=f"{name} ({old_label})", tofile=f"{name} ({new_label})",
                lineterm="", n=1,
            ))
    return MoodDiff(changes, text_diffs)


def _leaning(data: dict) -> str:
    try:
        return LearnedTerm.model_validate(data).describe()
    except ValueError:  # a stored version is always valid; this only guards a hand-made dict
        return "a learned term"


def _learned_changes(old: dict | None, new: dict | None) -> list[Change]:
    """The learned term: added or removed as a whole (in words), else its weight, bias, leaning,
    per-feature coefficients and what it was fitted on."""
    if old == new:
        return []
    if old is None:
        return [Change("learned", "added", None, f"{_leaning(new)}, weight {_show(new.get('weight'))}")]
    if new is None:
        return [Change("learned", "removed", f"{_leaning(old)}, weight {_show(old.get('weight'))}", None)]
    changes = [Change(f"learned.{key}", "changed", old.get(key), new.get(key))
               for key in ("weight", "bias") if old.get(key) != new.get(key)]
    if _leaning(old) != _leaning(new):
        changes.append(Change("learned.leaning", "changed", _leaning(old), _leaning(new)))
    old_f, new_f = old.get("features") or {}, new.get("features") or {}
    for feature in _feature_order(old_f, new_f):
        a = (old_f.get(feature) or {}).get("coefficient")
        b = (new_f.get(feature) or {}).get("coefficient")
        if a != b:
            kind = "changed" if a is not None and b is not None else ("added" if a is None else "removed")
            changes.append(Change(f"learned.features.{feature}.coefficient", kind, a, b))
    if old.get("source", "") != new.get("source", ""):
        changes.append(Change("learned.source", "changed", old.get("source", ""), new.get("source", "")))
    return changes
