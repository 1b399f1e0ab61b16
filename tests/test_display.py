"""curator/display.py: moods by the name listeners see, and moments in words with the exact time kept."""
from __future__ import annotations

from datetime import datetime

import pytest

from curator import display

NOW = datetime(2026, 12, 5, 8, 0, 0)


@pytest.mark.parametrize("moment, words", [
    (datetime(2026, 12, 5, 7, 59, 30), "just now"),
    (datetime(2026, 12, 5, 7, 56, 0), "4 minutes ago"),
    (datetime(2026, 12, 5, 7, 0, 0), "1 hour ago"),
    (datetime(2026, 12, 5, 1, 5, 0), "today at 01:05"),
    (datetime(2026, 12, 4, 14, 5, 0), "yesterday at 14:05"),
    (datetime(2026, 12, 2, 9, 30, 0), "2 Dec at 09:30"),
    (datetime(2025, 12, 2, 9, 30, 0), "2 Dec 2025"),
])
def test_moments_in_words(moment, words):
    assert display.when_words(moment, NOW) == words


def test_when_keeps_the_exact_time_for_machines_and_on_hover():
    html = str(display.when("2026-12-05T07:56:00Z", NOW))
    assert html == ('<time datetime="2026-12-05T07:56:00Z" title="5 Dec 2026, 07:56:00 UTC">'
                    '4 minutes ago</time>')
    assert str(display.when(None)) == "" and str(display.when("<b>soon</b>")) == "&lt;b&gt;soon&lt;/b&gt;"


def test_moods_are_named_as_listeners_see_them(app, moods):
    with app.test_request_context("/"):
        assert display.mood_name("calm") == "Calm"
        assert display.mood_name("gone") == "gone" and display.mood_name("") == "all moods"
