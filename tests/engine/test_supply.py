"""The engine says when a mood's supply is thin instead of quietly filling from neighbouring moods."""
import numpy as np

from curator.engine import FEATURES, Catalogue, CurateOptions, Length, curate

from .synthetic import mood

ENERGY = FEATURES.index("energy")

QUIET = mood("quiet", energy={"target": 0.05, "weight": 1.0})
LOUD = mood("loud", energy={"target": 0.95, "weight": 1.0})


def catalogue(quiet: int, loud: int = 200, middling: int = 200) -> Catalogue:
    rng = np.random.default_rng(0)
    feats = rng.random((quiet + loud + middling, len(FEATURES))).astype(np.float32)
    feats[:, FEATURES.index("tempo")] = 120
    feats[:, FEATURES.index("loudness")] = -8
    feats[:quiet, ENERGY] = rng.uniform(0.0, 0.1, quiet)
    feats[quiet:quiet + loud, ENERGY] = rng.uniform(0.9, 1.0, loud)
    feats[quiet + loud:, ENERGY] = rng.uniform(0.4, 0.6, middling)  # 0.35+ away from either mood
    return Catalogue.from_arrays(feats)


def test_thin_supply_is_named_for_the_mood_that_lacks_tracks():
    playlist = curate(catalogue(quiet=3), QUIET, QUIET, Length(tracks=20), CurateOptions(seed=0))
    assert len(playlist.tracks) == 20  # still filled, with the nearest available...
    assert playlist.notes == ["The catalogue has only 3 tracks close to Quiet for 20 places, so some picks "
                              "there are the nearest available and may feel like a neighbouring mood."]
    arc = curate(catalogue(quiet=3), LOUD, QUIET, Length(tracks=20), CurateOptions(seed=0))
    assert len(arc.notes) == 1 and "close to Quiet for 10 places" in arc.notes[0]


def test_no_note_when_the_mood_is_well_supplied():
    assert curate(catalogue(quiet=60), QUIET, QUIET, Length(tracks=20), CurateOptions(seed=0)).notes == []
    assert curate(catalogue(quiet=60), LOUD, QUIET, Length(tracks=20), CurateOptions(seed=0)).notes == []
    assert "notes" in curate(catalogue(quiet=60), QUIET, QUIET, Length(tracks=5)).to_dict()
