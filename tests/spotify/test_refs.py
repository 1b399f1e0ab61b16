"""What admins may paste as seeds, and what they are told when it isn't one."""
from __future__ import annotations

import pytest

from curator.spotify.refs import SeedInvalid, normalise_seed

PID = "37i9dQZF1DXcBWIGoYBM5M"
TID = "4uLU6hMCjMI75M1A2tKUQC"
AID = "0OdUWJ0sBjDrqHygGUXeCF"


@pytest.mark.parametrize("kind, text, expected", [
    ("playlist", f"https://open.spotify.com/playlist/{PID}?si=abc123", PID),
    ("playlist", f"  https://open.spotify.com/playlist/{PID}  ", PID),
    ("playlist", f"open.spotify.com/playlist/{PID}", PID),
    ("playlist", f"spotify:playlist:{PID}", PID),
    ("playlist", f"spotify:user:someone:playlist:{PID}", PID),
    ("playlist", f"https://open.spotify.com/user/someone/playlist/{PID}", PID),
    ("playlist", f"https://open.spotify.com/embed/playlist/{PID}", PID),
    ("playlist", PID, PID),
    ("track", f"https://open.spotify.com/intl-de/track/{TID}", TID),
    ("track", f"https://open.spotify.com/intl-pt-BR/track/{TID}?si=x&context=y", TID),
    ("track", f"spotify:track:{TID}", TID),
    ("track", TID, TID),
    ("artist", f"https://open.spotify.com/artist/{AID}", AID),
    ("artist", f"spotify:artist:{AID}", AID),
    ("artist", AID, AID),
    ("search", "  genre:ambient   year:2010-2024 ", "genre:ambient year:2010-2024"),
    ("search", 'genre:"classical piano"', 'genre:"classical piano"'),
])
def test_accepted_forms_are_normalised(kind, text, expected):
    assert normalise_seed(kind, text) == expected


@pytest.mark.parametrize("kind, text, message", [
    ("playlist", "", "is empty"),
    ("playlist", "chill vibes", "is not a Spotify playlist"),
    ("playlist", f"https://open.spotify.com/track/{TID}", "is a Spotify track, not a playlist. Put it under tracks"),
    ("track", f"spotify:playlist:{PID}", "is a Spotify playlist, not a track"),
    ("artist", f"https://open.spotify.com/album/{TID}", "is a Spotify album, not an artist"),
    ("playlist", "https://open.spotify.com/playlist/short", "no valid Spotify id"),
    ("playlist", f"https://example.com/playlist/{PID}", "is not a Spotify playlist"),
    ("playlist", "https://open.spotify.com/", "is a Spotify link, but not to a playlist"),
    ("track", TID + "x", "is not a Spotify track"),
    ("search", "x" * 251, "at most 250 characters"),
    ("search", f"https://open.spotify.com/track/{TID}", "is a Spotify link, not a search query"),
    ("album", TID, "Unknown seed kind"),
])
def test_rejected_forms_say_why(kind, text, message):
    with pytest.raises(SeedInvalid) as info:
        normalise_seed(kind, text)
    assert message in str(info.value)
