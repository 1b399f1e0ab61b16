"""The mood editor's form: a mood dict to field values and back, with errors per field.

Field names are the validation paths themselves (`name`, `features.tempo.min`), so an error the
engine reports as `features.tempo.min` lands next to that input without any translation table,
and whatever the curator typed is echoed back untouched when something is wrong.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from curator.engine import FEATURES, MoodDefinition, MoodInvalid, parse_mood
from curator.engine.features import DOMAINS
from curator.engine.learned import LearnedTerm

SCALARS = ("slug", "name", "description", "guidance", "colour", "valence", "arousal", "listener_pull")
FEATURE_KEYS = ("target", "min", "max", "weight")
# The learned term: its weight is typed; the fitted model (made by `flask moods calibrate`) rides
# along unchanged in a hidden field, so a save or preview keeps it.
LEARNED_WEIGHT, LEARNED_MODEL = "learned.weight", "learned.model"


@dataclass
class MoodForm:
    """What the editor shows: raw strings as typed, plus errors keyed by field name."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    general_errors: list[str] = field(default_factory=list)

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def checked(self, name: str) -> bool:
        return self.values.get(name) in ("on", "true", "1", "yes")

    def add_error(self, path: str, message: str) -> None:
        if path in self.values or path in SCALARS or path in ("allow_explicit", LEARNED_WEIGHT) or _is_feature_field(path):
            self.errors.setdefault(path, []).append(message)
        else:
            self.general_errors.append(f"{path}: {message}" if path else message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.general_errors)

    @property
    def learned_words(self) -> str | None:
        """The learned term in words ("leans toward louder, faster tracks"), None without one."""
        try:
            model = json.loads(self.value(LEARNED_MODEL) or "null")
            return LearnedTerm.model_validate({**model, "weight": 0}).describe() if model else None
        except (ValueError, TypeError):
            return None

    def error_count(self) -> int:
        return sum(len(v) for v in self.errors.values()) + len(self.general_errors)


def _is_feature_field(path: str) -> bool:
    parts = path.split(".")
    return len(parts) == 3 and parts[0] == "features" and parts[1] in FEATURES and parts[2] in FEATURE_KEYS


def feature_rows() -> list[dict]:
    """Static description of the per-feature inputs (name and allowed range) for the template."""
    return [{"name": n, "lo": DOMAINS[n][0], "hi": DOMAINS[n][1]} for n in FEATURES]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_from_mood(data: dict) -> MoodForm:
    """Field values for an existing (valid) mood dict."""
    values = {name: _text(data.get(name)) for name in SCALARS}
    values["listener_pull"] = _text(data.get("listener_pull", 0.0))
    values["allow_explicit"] = "on" if data.get("allow_explicit", True) else ""
    for name, spec in (data.get("features") or {}).items():
        for key in FEATURE_KEYS:
            values[f"features.{name}.{key}"] = _text(spec.get(key))
    learned = data.get("learned")
    if learned:
        values[LEARNED_WEIGHT] = _text(learned.get("weight"))
        values[LEARNED_MODEL] = json.dumps({k: v for k, v in learned.items() if k != "weight"}, sort_keys=True)
    return MoodForm(values=values)


def blank_form() -> MoodForm:
    return MoodForm(values={"colour": "#5b8def", "valence": "0.5", "arousal": "0.5", "listener_pull": "0",
                            "allow_explicit": "on"})


def read_form(form, *, slug: str | None = None) -> MoodForm:
    """Keep exactly what was typed (stripped) for every editor field; `slug` fixes the slug on edit."""
    values = {name: (form.get(name) or "").strip() for name in SCALARS}
    # Prose keeps its line breaks; only the ends are trimmed.
    values["allow_explicit"] = "on" if form.get("allow_explicit") else ""
    for name in FEATURES:
        for key in FEATURE_KEYS:
            values[f"features.{name}.{key}"] = (form.get(f"features.{name}.{key}") or "").strip()
    for name in (LEARNED_WEIGHT, LEARNED_MODEL):
        if form.get(name):
            values[name] = form.get(name).strip()
    if slug is not None:
        values["slug"] = slug
    return MoodForm(values=values)


def _number(state: MoodForm, path: str) -> float | None:
    raw = state.value(path)
    if raw == "":
        return None
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        state.add_error(path, f"“{raw}” is not a number")
        return None
    if not math.isfinite(number):
        state.add_error(path, f"“{raw}” is not a finite number")
        return None
    return number


def to_mood_data(state: MoodForm) -> dict:
    """The mood dict the form describes; number problems are added to `state.errors`.

    A feature takes part when its target is filled in; an empty weight means 1.
    """
    data: dict = {name: state.value(name) for name in ("slug", "name", "description", "guidance", "colour")}
    for name in ("valence", "arousal"):
        number = _number(state, name)
        if number is None and not state.errors.get(name):
            state.add_error(name, f"{name} is required")
        data[name] = number
    pull = _number(state, "listener_pull")
    data["listener_pull"] = 0.0 if pull is None else pull  # empty means no lean
    data["allow_explicit"] = state.checked("allow_explicit")
    features: dict = {}
    for name in FEATURES:
        spec = {key: _number(state, f"features.{name}.{key}") for key in FEATURE_KEYS}
        typed = {key: state.value(f"features.{name}.{key}") for key in FEATURE_KEYS}
        if spec["target"] is None:
            if typed["target"] == "" and (typed["min"] or typed["max"] or typed["weight"]):
                state.add_error(f"features.{name}.target",
                                f"give {name} a target, or clear its other boxes to leave {name} out")
            continue
        if spec["weight"] is None:
            spec["weight"] = 1.0
        features[name] = {k: v for k, v in spec.items() if v is not None}
    data["features"] = features
    if state.value(LEARNED_MODEL):
        try:
            model = json.loads(state.value(LEARNED_MODEL))
        except ValueError:
            model = None
        if not isinstance(model, dict):
            state.add_error("learned", "the learned term could not be read; reload the editor and try again")
        else:
            weight = _number(state, LEARNED_WEIGHT)
            data["learned"] = {**model, "weight": 0.0 if weight is None else weight}  # empty: the model is off
    return data


def validate(state: MoodForm) -> MoodDefinition | None:
    """The validated mood, or None with every problem recorded on `state` (nothing is lost)."""
    data = to_mood_data(state)
    try:
        definition = parse_mood(data)
    except MoodInvalid as exc:
        for path, message in exc.errors:
            # Number problems were already reported in the curator's own words.
            if path not in state.errors:
                # The engine names the field in its message ("valence: input should be ..."); the
                # editor shows the message beside that field, so the name would only repeat.
                field_name = path.rsplit(".", 1)[-1]
                state.add_error(path, message.removeprefix(f"{field_name}: "))
        return None
    return None if state.has_errors else definition
