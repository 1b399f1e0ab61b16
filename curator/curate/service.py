"""The mood editor's use cases: the editor's form and its live preview, saving and conflicts,
history, diffs, rollback, archiving and calibration from examples. `curate/routes.py` calls only
this module, and renders what it answers.

Transactions (`curator.transaction`): the service function that performs a use case owns its
transaction. It commits when the use case succeeds and rolls back when it fails (a refused save
writes nothing); views never commit, and the helpers it calls (`curator.moods.store`,
`curator.moods.history`) only add and flush.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from curator.curate import mood_preview
from curator.engine import FEATURES, MoodDefinition, mood_to_dict
from curator.models.mood import Mood, MoodVersion
from curator.moods import examples, history
from curator.moods.diff import diff_moods
from curator.moods.form import MoodForm, blank_form, feature_rows, form_from_mood, read_form, validate
from curator.moods.store import (
    RESERVED_SLUGS,
    StoredMood,
    VersionConflict,
    active_moods,
    all_moods,
    get_mood,
    reserved_slug_message,
    save_version,
)
from curator.problems import NotFound
from curator.transaction import transaction

__all__ = ["MoodForm", "Saved", "VersionConflict"]  # besides the use cases: the editor's form, a save's outcome and conflict


# -- what the editor shows -------------------------------------------------------------------

def moods() -> list[Mood]:
    """Every mood, archived ones included, in the curators' order."""
    return all_moods()


def start_moods() -> list[StoredMood]:
    """The moods a preview may start from (those listeners can choose)."""
    return active_moods()


def feature_fields():
    """The editor's rows, one per audio feature."""
    return feature_rows()


def mood_row(slug: str) -> Mood:
    """The mood with its current version; `NotFound` when there is none by that slug."""
    return history.mood_row(slug)


def blank_editor() -> MoodForm:
    return blank_form()


def editor_for(mood: Mood) -> MoodForm:
    """The editor filled with the mood's current version."""
    return form_from_mood(history.version_data(mood.current_version))


def read_editor(data, slug: str | None = None) -> MoodForm:
    """The editor as the curator sent it (`slug` fixed when editing an existing mood)."""
    return read_form(data, slug=slug)


def checked(state: MoodForm, *, new: bool = False) -> MoodDefinition | None:
    """The definition the form describes, or None with the errors written on the form; a new mood's
    slug must not be one of the paths Curator keeps for itself."""
    if new and state.value("slug") in RESERVED_SLUGS:
        state.add_error("slug", reserved_slug_message(state.value("slug")))
    definition = validate(state)
    return None if definition is None or state.has_errors else definition


def _start_mood(slug: str | None) -> MoodDefinition | None:
    if not slug:
        return None
    try:
        return get_mood(slug).definition
    except NotFound:
        return None


def live_preview(state: MoodForm, start_slug: str | None) -> tuple[mood_preview.MoodPreview | None, MoodForm]:
    """The playlist the form's mood would make (from `start_slug`'s mood when given), nothing saved.

    Placeholders let an unsaved new mood preview before it has a name; the form returned carries
    them and the validation errors of what was previewed."""
    if not any(state.value(f"features.{name}.target") for name in FEATURES):
        return None, MoodForm(values=dict(state.values))  # nothing to preview yet: a hint, not an error
    probe = MoodForm(values=dict(state.values))
    probe.values["slug"] = probe.values.get("slug") or "preview"
    probe.values["name"] = probe.values.get("name") or "Untitled"
    definition = validate(probe)
    if definition is None:
        return None, probe
    return mood_preview.build_preview(mood_preview.load_catalogue(), definition, _start_mood(start_slug)), probe


def conflict(exc: VersionConflict, yours: MoodDefinition) -> dict:
    """What the editor shows when someone saved since the curator began: theirs and the difference."""
    theirs = history.version_data(exc.current)
    return {
        "message": exc.message, "version": exc.current, "theirs": theirs,
        "diff": diff_moods(theirs, mood_to_dict(yours), old_label=f"version {exc.current.number}",
                           new_label="yours"),
    }


# -- writes ----------------------------------------------------------------------------------

def create_mood(definition: MoodDefinition, *, author, note: str) -> MoodVersion:
    """A new mood with its first version; `Conflict` when the slug is taken."""
    with transaction():
        return save_version(mood_to_dict(definition), author=author, note=note or "Created", create=True)


@dataclass(frozen=True)
class Saved:
    """What a save or a rollback left current: a new version, or (`changed` False) the version that
    already defined exactly this mood, untouched."""

    version: MoodVersion
    changed: bool

    @property
    def name(self) -> str:
        return self.version.data.get("name") or self.version.mood.slug


def save_mood(definition: MoodDefinition, *, author, note: str, base_version_id: int) -> Saved:
    """The mood's next version, or none when nothing changed; `VersionConflict` when someone saved
    something else since `base_version_id`."""
    with transaction():
        before = history.mood_row(definition.slug).current_version_id
        version = save_version(mood_to_dict(definition), author=author, note=note, base_version_id=base_version_id)
        return Saved(version, version.id != before)


def rollback(slug: str, number: int, *, author, base_version_id: int) -> Saved:
    """Version `number`'s data made current again as a new version, or none when it already is."""
    with transaction():
        before = history.mood_row(slug).current_version_id
        version = history.rollback(slug, number, author=author, base_version_id=base_version_id)
        return Saved(version, version.id != before)


def set_archived(slug: str, archived: bool, *, actor) -> Mood:
    """Hide a mood from listeners, or bring it back."""
    with transaction():
        return history.set_archived(slug, archived, actor=actor)


# -- history and differences -------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryPage:
    mood: Mood
    versions: list[MoodVersion]
    previews: dict[int, int]  # version id -> listener previews made with it


def history_page(slug: str) -> HistoryPage:
    """A mood's versions, newest first, with how many listener previews each made."""
    mood = history.mood_row(slug)
    versions = history.versions(slug)
    return HistoryPage(mood, versions, history.preview_counts([v.id for v in versions]))


@dataclass(frozen=True)
class DiffPage:
    mood: Mood
    old: MoodVersion
    new: MoodVersion
    diff: list
    versions: list[MoodVersion]


def diff_page(slug: str, old_number: int | None, new_number: int | None) -> DiffPage:
    """Two versions side by side (default: the current one and the one before it)."""
    mood = history.mood_row(slug)
    new_number = new_number or mood.current_version.number
    if old_number is None:
        old_number = max(1, new_number - 1)
    old, new = history.version(slug, old_number), history.version(slug, new_number)
    diff = diff_moods(history.version_data(old), history.version_data(new),
                      old_label=f"version {old.number}", new_label=f"version {new.number}")
    return DiffPage(mood, old, new, diff, history.versions(slug))


# -- calibration -----------------------------------------------------------------------------

@dataclass
class Calibration:
    """The calibration page: the examples asked for and, once run, the proposal and its diff."""

    mood: Mood
    current: StoredMood
    tags: list[tuple[str, int]]
    has_catalogue: bool
    tag: str = ""
    pasted: str = ""
    result: examples.Calibration | None = None
    error: str | None = None
    unrecognised: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    proposal_fields: dict | None = None
    diff: list | None = None
    note: str | None = None

    def context(self) -> dict:
        return dict(self.__dict__)


def calibration(slug: str, *, tag: str = "", pasted: str = "", run: bool = False) -> Calibration:
    """The calibration page for a mood; with `run`, a proposal learned from the catalogue tracks
    that carry `tag` or the tracks `pasted` (links, URIs or ids), or `error` saying why not."""
    mood = history.mood_row(slug)
    current = get_mood(slug, include_archived=True)
    catalogue = mood_preview.load_catalogue()
    page = Calibration(mood, current, examples.tag_counts(catalogue) if catalogue is not None else [],
                       catalogue is not None, tag, pasted)
    if not run:
        return page
    if catalogue is None:
        page.error = "There is no track catalogue yet, so there are no examples to learn from."
        return page
    page.result = _calibrate(catalogue, current.definition, page)
    if page.result is not None:
        result = page.result
        page.diff = diff_moods(mood_to_dict(current.definition), mood_to_dict(result.proposed),
                               old_label=f"version {current.number}", new_label="proposal")
        page.proposal_fields = form_from_mood(mood_to_dict(result.proposed)).values
        source = f"tag {tag}" if tag else "pasted tracks"
        page.note = (f"Calibrated from {result.examples} examples ({source}): precision at "
                     f"{examples.K} {result.precision_proposed:.2f} (was {result.precision_current:.2f})")
    return page


def _calibrate(catalogue, definition: MoodDefinition, page: Calibration):
    if page.tag:
        if page.tag not in dict(page.tags):
            page.error = f"No track in the catalogue carries the tag “{page.tag}”."
            return None
        mask, missing = examples.tag_mask(catalogue, page.tag), []
    else:
        refs = examples.parse_track_refs(page.pasted)
        page.unrecognised = refs.unrecognised
        if not refs.ids:
            page.error = "Choose a tag, or paste Spotify track links, URIs or ids (one per line)."
            return None
        mask, missing = examples.ids_mask(catalogue, refs.ids)
        page.missing = missing
        if not mask.any():
            page.error = "None of those tracks is in the catalogue, so there is nothing to learn from."
            return None
    try:
        return examples.calibrate(catalogue, definition, mask, missing=missing)
    except ValueError as exc:
        page.error = str(exc)
        return None
