"""Pure rules of the exactly-once save: what to add after reading a playlist back, names, descriptions."""
from __future__ import annotations

from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from curator.playlists.saving import playlist_description, playlist_name, remaining_uris

uris = st.lists(st.sampled_from([f"spotify:track:{i}" for i in range(30)]), unique=True, max_size=25)


@given(uris, st.data())
def test_resuming_from_any_prefix_completes_the_playlist_in_order(wanted, data):
    landed = data.draw(st.integers(0, len(wanted)))
    existing = list(wanted[:landed])
    # Spotify may not say which item an entry is (unavailable track): None still counts as landed.
    if existing:
        existing[data.draw(st.integers(0, len(existing) - 1))] = None
    assert wanted[:landed] + remaining_uris(existing, wanted) == wanted


@given(uris, uris)
def test_a_playlist_changed_by_the_listener_gets_each_missing_track_once(wanted, existing):
    todo = remaining_uris(existing, wanted)
    assert len(set(todo)) == len(todo)
    assert set(existing) | set(todo) >= set(wanted)
    assert not set(todo) & set(existing)


def test_name_and_description_follow_the_contract():
    assert playlist_name("Anxious", "Calm", datetime(2026, 11, 24)) == "Anxious → Calm · 24 Nov 2026"
    text = playlist_description("A" * 200, "B" * 200, 20, 70, "ref 1234abcd")
    assert len(text) <= 300 and "\n" not in text and text.endswith("(ref 1234abcd)")
