"""The editor's live preview: the playlist a mood version would make, without saving anything."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from curator.catalogue.matrix import current_catalogue
from curator.engine import (
    Catalogue,
    CurateOptions,
    EngineError,
    Length,
    MoodDefinition,
    Playlist,
    curate,
)
from curator.listen.charts import arc_chart, mood_mark

PREVIEW_TRACKS = 12
LABEL_PREFIX = "mood:"


def load_catalogue() -> Catalogue | None:
    """The current catalogue (cached per process by the catalogue package), or None while it is empty."""
    catalogue = current_catalogue()
    return catalogue if len(catalogue) else None


@dataclass(frozen=True)
class MoodPreview:
    playlist: Playlist | None
    chart: str = ""
    # (label, count) among the previewed tracks, most common first; empty when nothing is labelled
    label_mix: list[tuple[str, int]] = field(default_factory=list)
    labelled: int = 0
    problem: str | None = None


def label_mix(catalogue: Catalogue, playlist: Playlist) -> tuple[list[tuple[str, int]], int]:
    """How the previewed tracks are labelled (tags like `mood:calm`), and how many carry a label."""
    counts: Counter[str] = Counter()
    labelled = 0
    for track in playlist.tracks:
        tags = [t.removeprefix(LABEL_PREFIX) for t in catalogue.tags[catalogue.index_of(track.id)]
                if t.startswith(LABEL_PREFIX)]
        if tags:
            labelled += 1
            counts.update(tags)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])), labelled


def build_preview(catalogue: Catalogue | None, mood: MoodDefinition, start: MoodDefinition | None = None,
                  tracks: int = PREVIEW_TRACKS) -> MoodPreview:
    """A steady playlist for `mood` (or from `start` to `mood`), with its chart and label mix."""
    if catalogue is None or not len(catalogue):
        return MoodPreview(None, problem="There is no track catalogue yet, so there is nothing to preview. "
                                     "An admin can build one on the catalogue page.")
    try:
        playlist = curate(catalogue, start or mood, mood, Length(tracks=tracks), CurateOptions(seed=0))
    except EngineError as exc:
        return MoodPreview(None, problem=str(exc))
    if not playlist.tracks:
        return MoodPreview(playlist, problem=playlist.shortfall or "No track in the catalogue fits these ranges.")
    mix, labelled = label_mix(catalogue, playlist)
    chart = arc_chart(playlist.to_dict()["tracks"], mood_mark(start or mood), mood_mark(mood), chart_id="mood-preview")
    return MoodPreview(playlist, chart, mix, labelled)

