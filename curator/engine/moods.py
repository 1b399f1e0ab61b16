"""Mood definitions: the schema, validation with readable errors, and YAML round-tripping.

A mood is a point on the valence/arousal circumplex (for display) plus per-feature targets that
the engine actually curates against. Validation reports *every* problem at once, each with a
field path (``moods[2].features.tempo.min``) and a sentence a mood editor can show as-is.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from curator.engine.errors import EngineError
from curator.engine.features import DOMAINS, FEATURES
from curator.engine.learned import LearnedTerm, blend
from curator.engine.listener import SHIPPED_MODEL, ListenerModel, lean_targets

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"
# Weights are relative to each other; past 100 times the lightest useful weight (0.01...1) a
# number is a typo, and 1e308 would overflow the scoring sums to inf.
MAX_WEIGHT = 100.0
# A moods document is a list of mappings three levels deep; anything much deeper is not a moods
# file, and PyYAML would recurse once per level (5,000 levels -> RecursionError).
MAX_YAML_DEPTH = 32
MAX_INT_CHARS = 400  # a float ends at 1.8e308: no YAML integer longer than this is a number we can use
# Text that reaches the database, HTML and YAML: line breaks and tabs are fine, other control
# characters (NUL above all: PostgreSQL refuses it) are not.
_CONTROL = {chr(c) for c in range(32)} - {"\n", "\r", "\t"} | {"\x7f"}

_PATTERN_MESSAGES = {
    "slug": "slug must be 2 to 40 characters of lowercase letters, digits and hyphens, starting with a letter",
    "colour": "colour must be a hex colour like #5b8def",
}

_SEMANTIC_ERROR = "mood_semantics"


class MoodInvalid(EngineError):
    """A mood (or moods document) failed validation. ``errors`` lists (field path, sentence)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = list(errors)
        lines = "; ".join(f"{path}: {msg}" if path else msg for path, msg in self.errors)
        super().__init__(f"Invalid mood definition: {lines}")


class FeatureTarget(BaseModel):
    """Where a mood wants one feature: a target, an optional hard range, and an importance weight."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: float = Field(allow_inf_nan=False)
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)
    weight: float = Field(default=1.0, ge=0, le=MAX_WEIGHT, allow_inf_nan=False)


class MoodDefinition(BaseModel):
    """A named mood with display data and the feature targets the engine curates against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    description: str = ""
    guidance: str = ""
    colour: str = Field(pattern=COLOUR_PATTERN)
    valence: float = Field(ge=0, le=1, allow_inf_nan=False)
    arousal: float = Field(ge=0, le=1, allow_inf_nan=False)
    features: dict[str, FeatureTarget]
    # How strongly picks lean toward music *listeners* place at (valence, arousal), by the learned
    # listener estimate (engine/listener.py); 0 = the feature targets alone decide.
    listener_pull: float = Field(default=0.0, ge=0, le=1, allow_inf_nan=False)
    # A classifier fitted on labelled examples, blended with the targets (engine/learned.py).
    learned: LearnedTerm | None = None
    allow_explicit: bool = True

    @field_validator("name", "description", "guidance")
    @classmethod
    def _no_control_characters(cls, value: str) -> str:
        if any(ch in _CONTROL for ch in value):
            raise PydanticCustomError("control_character", "must not contain control characters such as NUL")
        return value

    @model_validator(mode="after")
    def _check_feature_semantics(self) -> MoodDefinition:
        # The same rules parse_mood reports with precise paths; here they guard direct construction.
        problems = _feature_errors(
            {name: ft.model_dump() for name, ft in self.features.items()}, "features."
        )
        if problems:
            raise PydanticCustomError(_SEMANTIC_ERROR, "; ".join(f"{p}: {m}" for p, m in problems))
        return self


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _feature_errors(features: Any, prefix: str) -> list[tuple[str, str]]:
    """Rules pydantic cannot express per field: known names, domains, and min <= target <= max."""
    if not isinstance(features, dict):
        return []
    errors: list[tuple[str, str]] = []
    if not features:
        errors.append((prefix.rstrip("."), "a mood needs at least one feature target"))
    for name, spec in features.items():
        path = f"{prefix}{name}"
        if name not in FEATURES:
            errors.append((path, f"unknown feature '{name}'; known features are {', '.join(FEATURES)}"))
            continue
        if not isinstance(spec, dict):
            continue
        lo, hi = DOMAINS[name]
        values = {key: _number(spec.get(key)) for key in ("target", "min", "max")}
        for key, value in values.items():
            if value is not None and not lo <= value <= hi:
                errors.append((f"{path}.{key}", f"{key} ({_fmt(value)}) must be between {_fmt(lo)} and {_fmt(hi)} for {name}"))
        target, vmin, vmax = values["target"], values["min"], values["max"]
        if vmin is not None and vmax is not None and vmin > vmax:
            errors.append((f"{path}.min", f"min ({_fmt(vmin)}) is greater than max ({_fmt(vmax)})"))
            continue  # the target cannot sit inside an empty range; one message is enough
        if target is not None and vmin is not None and target < vmin:
            errors.append((f"{path}.target", f"target ({_fmt(target)}) is below min ({_fmt(vmin)})"))
        if target is not None and vmax is not None and target > vmax:
            errors.append((f"{path}.target", f"target ({_fmt(target)}) is above max ({_fmt(vmax)})"))
    return errors


def _loc_to_path(loc: Iterable[Any], prefix: str) -> str:
    path = prefix.rstrip(".")
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _pydantic_errors(exc: ValidationError, prefix: str) -> list[tuple[str, str]]:
    errors = []
    for err in exc.errors():
        if err["type"] == _SEMANTIC_ERROR:
            continue  # reported with precise paths by _feature_errors
        loc = tuple(err["loc"])
        path = _loc_to_path(loc, prefix)
        field = str(loc[-1]) if loc else ""
        kind = err["type"]
        if kind == "extra_forbidden":
            message = f"unknown field '{field}'"
        elif kind == "missing":
            message = f"{field} is required"
        elif kind == "string_pattern_mismatch" and field in _PATTERN_MESSAGES:
            message = _PATTERN_MESSAGES[field]
        elif kind in ("greater_than_equal", "less_than_equal") and loc[:2] == ("learned", "weight"):
            message = f"the learned term's weight ({_fmt(err.get('input'))}) must be between 0 and 1"
        elif kind == "learned_feature":
            message = err["msg"]
        elif kind == "greater_than_equal" and field == "weight":
            message = f"weight ({_fmt(err.get('input'))}) must not be negative"
        elif kind == "less_than_equal" and field == "weight":
            message = (f"weight ({_fmt(err.get('input'))}) is too large; weights are relative, "
                       f"use a number from 0 to {_fmt(MAX_WEIGHT)}")
        elif kind in ("greater_than_equal", "less_than_equal") and field == "listener_pull":
            message = f"listener pull ({_fmt(err.get('input'))}) must be between 0 and 1"
        elif kind == "control_character":
            message = f"{field} must not contain control characters such as NUL"
        else:
            message = f"{field}: {err['msg'][0].lower()}{err['msg'][1:]}" if field else err["msg"]
        errors.append((path, message))
    return errors


def parse_mood(data: dict, path_prefix: str = "") -> MoodDefinition:
    """Validate one mood mapping; raise :class:`MoodInvalid` listing every problem found.

    ``path_prefix`` (e.g. ``"moods[2]."``) is prepended to each error path.
    """
    if path_prefix and not path_prefix.endswith("."):
        path_prefix += "."
    if not isinstance(data, dict):
        raise MoodInvalid([(path_prefix.rstrip("."), "a mood must be a mapping of fields")])
    errors = _feature_errors(data.get("features"), f"{path_prefix}features.")
    try:
        mood = MoodDefinition.model_validate(data)
    except ValidationError as exc:
        errors.extend(_pydantic_errors(exc, path_prefix))
        mood = None
    if errors or mood is None:
        raise MoodInvalid(_dedupe(errors) or [(path_prefix.rstrip("."), "invalid mood")])
    return mood


def _dedupe(errors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(errors))


def parse_moods_document(data: Any) -> list[MoodDefinition]:
    """Validate the document ``{"moods": [mood, ...]}``; slugs must be unique."""
    if not isinstance(data, dict):
        raise MoodInvalid([("", "the document must be a mapping with a 'moods' list")])
    errors: list[tuple[str, str]] = [(key, f"unknown field '{key}'") for key in data if key != "moods"]
    items = data.get("moods")
    if not isinstance(items, list):
        raise MoodInvalid(errors + [("moods", "moods must be a list of mood definitions")])
    moods: list[MoodDefinition] = []
    first_index: dict[str, int] = {}
    for i, item in enumerate(items):
        prefix = f"moods[{i}]."
        try:
            mood = parse_mood(item, prefix)
        except MoodInvalid as exc:
            errors.extend(exc.errors)
            continue
        if mood.slug in first_index:
            errors.append((f"{prefix}slug", f"duplicate slug '{mood.slug}' (already used by moods[{first_index[mood.slug]}])"))
        else:
            first_index[mood.slug] = i
        moods.append(mood)
    if errors:
        raise MoodInvalid(errors)
    return moods


class _TooDeep(Exception):
    def __init__(self, line: int):
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that gives up past MAX_YAML_DEPTH levels of nesting instead of recursing on, and
    reads an integer too long for any float as infinity, which validation refuses with the field's
    name (Python refuses to convert more than 4,300 digits at all: a traceback, before)."""

    def construct_yaml_int(self, node):  # noqa: ANN001 - PyYAML's signature
        text = self.construct_scalar(node)
        if len(text) > MAX_INT_CHARS:
            return -math.inf if text.lstrip().startswith("-") else math.inf
        return super().construct_yaml_int(node)

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def load_moods_yaml(text: str) -> list[MoodDefinition]:
    """Parse and validate a moods YAML document. YAML syntax errors are reported with a line number."""
    if "\x00" in text:
        raise MoodInvalid([("", "the file contains a NUL character; is it really a YAML text file?")])
    try:
        data = yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooDeep as exc:
        raise MoodInvalid([(f"line {exc.line}", f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep "
                                                f"(at line {exc.line}); a moods file needs only a few levels")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if mark is not None:
            raise MoodInvalid([(f"line {mark.line + 1}", f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}")]) from None
        raise MoodInvalid([("", f"YAML syntax error: {problem}")]) from None
    return parse_moods_document(data)


def mood_to_dict(mood: MoodDefinition) -> dict:
    """A plain, JSON/YAML-safe mapping of a mood; unset range bounds are left out."""
    data = mood.model_dump(mode="json")
    data["features"] = {
        name: {k: v for k, v in spec.items() if v is not None} for name, spec in data["features"].items()
    }
    if not data["listener_pull"]:
        del data["listener_pull"]  # the default: files and stored versions from before it stay equal
    if data["learned"] is None:
        del data["learned"]  # likewise
    elif not data["learned"]["source"]:
        del data["learned"]["source"]
    return data


def scoring_features(mood: MoodDefinition, model: ListenerModel | None = None) -> dict[str, FeatureTarget]:
    """The feature targets the engine scores against: the mood's own, moved by its listener pull
    and blended with its learned term.

    ``model`` is a :class:`~curator.engine.listener.ListenerModel` (default: the shipped one). Ranges
    are unchanged; the pull moves targets only where the mood gives the feature weight; the learned
    term (engine/learned.py) moves targets and weights and may add features the mood leaves out.
    """
    learned = mood.learned if mood.learned is not None and mood.learned.weight > 0 else None
    if not mood.listener_pull and learned is None:
        return dict(mood.features)
    key = tuple((name, spec.target, spec.min, spec.max, spec.weight) for name, spec in mood.features.items())
    return dict(_moved_features(key, mood.valence, mood.arousal, mood.listener_pull, model or SHIPPED_MODEL, learned))


@lru_cache(maxsize=1024)
def _moved_features(key: tuple, valence: float, arousal: float, pull: float,
                    model: ListenerModel, learned: LearnedTerm | None) -> dict[str, FeatureTarget]:
    # Cached (FeatureTarget is frozen, so sharing is safe): build_arc asks on every preview, and the
    # answer depends only on these numbers.
    moved = lean_targets({name: (target, weight) for name, target, _, _, weight in key}, valence, arousal, pull, model)
    weights = {name: weight for name, _, _, _, weight in key}
    targets = {name: (moved[name], weights[name]) for name in moved}
    if learned is not None:
        targets = blend(targets, learned)
    ranges = {name: (lo, hi) for name, _, lo, hi, _ in key}
    # model_construct: a moved target may sit outside the curator's range (that is the point of a
    # lean), so this is not a definition to validate, only numbers for the engine.
    return {name: FeatureTarget.model_construct(target=target, min=ranges.get(name, (None, None))[0],
                                                max=ranges.get(name, (None, None))[1], weight=weight)
            for name, (target, weight) in targets.items()}


def shifted(mood: MoodDefinition, shift: Mapping[str, float] | None) -> MoodDefinition:
    """``mood`` with the targets and ranges of the features it defines moved by ``shift`` (raw
    units per feature, e.g. a listener's nudges), each kept inside its domain; ``mood`` itself
    when there is nothing to move."""
    if not shift:
        return mood
    folded = bool(mood.listener_pull or (mood.learned is not None and mood.learned.weight > 0))
    if folded:
        # Nudge what the engine scores against: a learned term's share of a target would otherwise
        # not move, and a nudge would be diluted by the term's weight. Its targets lean toward the
        # edges of the feature box, so they move past them rather than stop there (only ranges
        # are kept inside the domain).
        mood = with_listener_pull_applied(mood, SHIPPED_MODEL)
    features = dict(mood.features)
    for name, delta in shift.items():
        spec = features.get(name)
        if spec is None or not delta:
            continue
        lo, hi = DOMAINS[name]

        def moved(value: float | None, lo: float = lo, hi: float = hi, delta: float = delta) -> float | None:
            return None if value is None else max(lo, min(hi, value + delta))

        target = spec.target + delta if folded else moved(spec.target)
        features[name] = spec.model_copy(update={"target": target, "min": moved(spec.min), "max": moved(spec.max)})
    return mood.model_copy(update={"features": features})


def with_listener_pull_applied(mood: MoodDefinition, model: ListenerModel) -> MoodDefinition:
    """The same mood with its pull (and learned term) folded into plain targets under ``model``: for evaluation."""
    return mood.model_copy(update={"features": scoring_features(mood, model), "listener_pull": 0.0, "learned": None})


def dump_moods_yaml(moods: Iterable[MoodDefinition]) -> str:
    """Serialise moods to YAML so that ``load_moods_yaml(dump_moods_yaml(x)) == x``."""
    document = {"moods": [mood_to_dict(m) for m in moods]}
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    if yaml.safe_load(text) != document:
        # PyYAML writes a few exotic characters (e.g. U+0085) raw, and they read back as line
        # breaks; escaping all non-ASCII text is always exact, if less pretty.
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=100)
    return text
