"""The one retry/backoff helper and the one Retry-After rounding (Spotify gateway and ReccoBeats)."""
from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from curator.retrying import TryAgain, backoff, retry_after_seconds, retrying, whole_seconds


@pytest.mark.parametrize("header, seconds", [
    ("5", 5.0), ("0.4", 0.4), ("0", 0.0), ("-3", 0.0), ("", 1.0), (None, 1.0), ("soon", 1.0), ("nan", 1.0),
])
def test_retry_after_header_in_seconds(header, seconds):
    assert retry_after_seconds({} if header is None else {"Retry-After": header}) == seconds


def test_retry_after_as_an_http_date():
    assert 28 <= retry_after_seconds({"Retry-After": formatdate(time.time() + 30, usegmt=True)}) <= 30


@pytest.mark.parametrize("seconds, told", [(0, 1), (0.2, 1), (1.0, 1), (1.01, 2), (24.5, 25), (120, 120)])
def test_people_are_told_whole_seconds_never_less_than_asked(seconds, told):
    assert whole_seconds(seconds) == told


def test_backoff_doubles_up_to_a_ceiling():
    assert [backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_retrying_waits_as_told_then_gives_up_with_the_attempts_error():
    waits, attempts = [], []

    def attempt():
        attempts.append(1)
        raise TryAgain(LookupError("still busy"), wait=2 if len(attempts) == 1 else None)

    with pytest.raises(LookupError, match="still busy"):
        retrying(attempt, retries=3, max_wait=10, sleep=waits.append)
    assert len(attempts) == 4 and waits == [2, 1.0, 2.0]


def test_a_wait_longer_than_we_accept_is_not_waited_out():
    def attempt():
        raise TryAgain(TimeoutError("busy for two minutes"), wait=120)

    with pytest.raises(TimeoutError):
        retrying(attempt, retries=3, max_wait=10, sleep=lambda s: pytest.fail("must not sleep"))


def test_other_errors_pass_straight_through_and_success_returns():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TryAgain(RuntimeError("5xx"))
        return "ok"

    assert retrying(flaky, retries=3, max_wait=10, sleep=lambda s: None) == "ok"
    with pytest.raises(KeyError):
        retrying(lambda: (_ for _ in ()).throw(KeyError("no")), retries=3, max_wait=10, sleep=lambda s: None)


def test_reccobeats_and_spotify_round_retry_after_the_same_way(app, fake_spotify):
    from curator.catalogue.providers import ProviderUnavailable, ReccoBeatsProvider
    from curator.spotify.errors import SpotifyRateLimited

    assert SpotifyRateLimited("busy", retry_after=24.2).wait_seconds == whole_seconds(24.2) == 25
    with app.app_context():
        provider = ReccoBeatsProvider(fake_spotify.reccobeats_url, max_wait=10,
                                      sleep=lambda s: pytest.fail("must not wait out 24.2 s"))
        fake_spotify.fail_next("GET", r"/reccobeats/", 429, retry_after=24.2)
        with pytest.raises(ProviderUnavailable, match=r"retry after 25 s"):
            provider.fetch(["4uLU6hMCjMI75M1A2tKUQC"])
