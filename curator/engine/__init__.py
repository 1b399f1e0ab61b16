"""The pure curation engine: moods, catalogue, arcs, scoring and sequencing. No Flask, no I/O."""
from curator.engine.catalogue import Catalogue
from curator.engine.curate import (
    ArcStats,
    CurateOptions,
    Length,
    Playlist,
    PlaylistTrack,
    curate,
)
from curator.engine.edits import Edit
from curator.engine.errors import CatalogueEmpty, EditInvalid, EngineError, LengthInvalid
from curator.engine.features import FEATURES
from curator.engine.moods import (
    FeatureTarget,
    MoodDefinition,
    MoodInvalid,
    dump_moods_yaml,
    load_moods_yaml,
    mood_to_dict,
    parse_mood,
    parse_moods_document,
)

__all__ = [
    "FEATURES",
    "ArcStats",
    "Catalogue",
    "CatalogueEmpty",
    "CurateOptions",
    "Edit",
    "EditInvalid",
    "EngineError",
    "FeatureTarget",
    "Length",
    "LengthInvalid",
    "MoodDefinition",
    "MoodInvalid",
    "Playlist",
    "PlaylistTrack",
    "curate",
    "dump_moods_yaml",
    "load_moods_yaml",
    "mood_to_dict",
    "parse_mood",
    "parse_moods_document",
]
