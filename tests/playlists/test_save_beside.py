"""Saves run beside the request (curator/playlists/save_runner.py), as production runs them: a save
that waits on a slow Spotify answers 202 within SAVE_ANSWER_SECONDS and carries on, never holding
more than half of a worker's threads, for at most SAVE_BACKGROUND_SECONDS; a write whose answer was
lost is looked for while it may still land, not only once its window has passed.

The causes these cover, from issue 18's acceptance run (bench/slow_spotify.py, docs/reliability.md):
100 saves holding all 16 threads of gunicorn for 9 s each left previews and further saves queued in
gunicorn for up to 55 s (12 cut by the client's 60 s timeout), a request that had waited its turn in
that queue answered 40 s after it was sent although its own budget (20 s) was kept, and a save
resumed after a kill slept out the whole settle window (3 timeouts) although its add had landed.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import update

from curator.clock import utcnow
from curator.extensions import db
from curator.models.listening import PlaylistSave
from curator.playlists import saving
from tests.helpers import api_login, api_preview, api_save

ITEMS = r"/v1/playlists/.+/items"
EVERYTHING = r"^/v1/"


def record(app, preview_id) -> PlaylistSave:
    with app.app_context():
        row = db.session.scalar(db.select(PlaylistSave).where(PlaylistSave.preview_id == preview_id))
        db.session.expunge(row)
        return row


def until(check, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_a_slow_save_answers_202_at_once_carries_on_in_the_background_and_ends_in_one_playlist(
        app, client, catalogue, fake_spotify):
    app.config.update(SAVE_ANSWER_SECONDS=1.0, SPOTIFY_TIMEOUT=5.0)
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.delay_next("POST", ITEMS, 3.0)  # inside the timeout: Spotify is just slow
    started = time.monotonic()
    answer = api_save(client, token, preview["id"])
    took = time.monotonic() - started
    assert answer.status_code == 202, answer.json
    assert took < 2.5, took  # the answer wait (1 s), not the add (3 s)
    assert answer.json["saving"]["continuing"] is True
    assert "finishing it in the background" in answer.json["saving"]["message"]
    shown = client.get(f"/api/v1/previews/{preview['id']}").json
    assert shown["save_running"] is True and shown["playlist"] is None and shown["unfinished_save"] is None
    page = client.get(f"/previews/{preview['id']}").get_data(as_text=True)
    assert "being saved to Spotify right now" in page and "Finish saving" not in page
    # Saving again meanwhile neither waits long nor starts a second run.
    again = api_save(client, token, preview["id"])
    assert again.status_code in (200, 202), again.json
    assert until(lambda: client.get(f"/api/v1/previews/{preview['id']}").json["playlist"] is not None, 10)
    shown = client.get(f"/api/v1/previews/{preview['id']}").json
    assert shown["save_running"] is False
    assert api_save(client, token, preview["id"]).status_code == 200  # a replay
    [playlist] = fake_spotify.playlists_of("listener-1")
    assert playlist.track_ids == [t["id"] for t in preview["tracks"]]
    assert len(fake_spotify.calls("POST", ITEMS)) == 1


def test_a_quick_save_still_answers_with_its_playlist(app, client, catalogue, fake_spotify):
    app.config.update(SAVE_ANSWER_SECONDS=5.0)
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    answer = api_save(client, token, preview["id"])
    assert answer.status_code == 201, answer.json
    assert answer.json["id"] == fake_spotify.playlists_of("listener-1")[0].id


def test_saves_never_hold_more_than_half_of_the_threads_so_a_preview_finds_one(app, catalogue, fake_spotify):
    """WEB_THREADS 4: two requests at most wait on saves; a third save answers 202 at once."""
    app.config.update(SAVE_ANSWER_SECONDS=4.0, SPOTIFY_TIMEOUT=8.0, WEB_THREADS=4)
    people = [app.test_client() for _ in range(3)]
    tokens = [api_login(c, fake_spotify, f"saver-{n}") for n, c in enumerate(people)]
    previews = [api_preview(c, t) for c, t in zip(people, tokens)]
    fake_spotify.delay_next("POST", ITEMS, 5.0, times=3)
    answers: dict[int, tuple[int, float]] = {}

    def save(n):
        started = time.monotonic()
        status = api_save(people[n], tokens[n], previews[n]["id"], key=f"k-{n}").status_code
        answers[n] = (status, time.monotonic() - started)

    waiting = [threading.Thread(target=save, args=(n,)) for n in range(2)]
    for thread in waiting:
        thread.start()
    assert until(lambda: sum(1 for p in previews if _adding(app, p["id"])) == 2, 5)
    save(2)  # both waiting slots are taken: this one does not wait
    for thread in waiting:
        thread.join()
    assert answers[2][0] == 202 and answers[2][1] < 1.5, answers
    assert [answers[n][0] for n in range(2)] == [202, 202]
    assert all(3.5 < answers[n][1] < 6 for n in range(2)), answers  # they did wait their 4 s
    assert until(lambda: all(len(fake_spotify.playlists_of(f"saver-{n}")) == 1
                             and len(fake_spotify.playlists_of(f"saver-{n}")[0].track_ids) == 20
                             for n in range(3)), 15)


def _adding(app, preview_id) -> bool:
    with app.app_context():
        row = db.session.scalar(db.select(PlaylistSave).where(PlaylistSave.preview_id == preview_id))
        return row is not None and row.sending_since is not None


def test_a_background_save_stops_after_its_time_and_offers_to_finish(app, client, catalogue, fake_spotify):
    app.config.update(SAVE_ANSWER_SECONDS=0.5, SAVE_BACKGROUND_SECONDS=3.0, SPOTIFY_TIMEOUT=1.0,
                      SAVE_RETRY_BUDGET=30)
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.delay_next(None, EVERYTHING, 4.0, times=1000)  # every call hangs past its timeout
    started = time.monotonic()
    assert api_save(client, token, preview["id"]).status_code == 202
    # However long its retry budget, the background run stops after SAVE_BACKGROUND_SECONDS.
    assert until(lambda: client.get(f"/api/v1/previews/{preview['id']}").json["save_running"] is False, 8)
    assert time.monotonic() - started < 3.0 + 3.0
    shown = client.get(f"/api/v1/previews/{preview['id']}").json
    assert shown["unfinished_save"] is not None and shown["playlist"] is None
    assert "Finish saving" in client.get(f"/previews/{preview['id']}").get_data(as_text=True)
    fake_spotify.wait_idle(10)
    with fake_spotify._lock:
        fake_spotify._delays.clear()
    assert record(app, preview["id"]).lease_holder is None


def test_a_resumed_save_finds_its_lost_add_as_soon_as_it_lands(app, client, catalogue, fake_spotify):
    """A process died with its add in flight (issue 18's kill -9); the add lands 1 s after the lease
    lapsed. The save resumed then finds it within a look (2 s), instead of waiting out the 3 timeouts
    (here 15 s) in which it might still land, and adds nothing twice."""
    app.config.update(SAVE_LEASE_SECONDS=1.0, SPOTIFY_TIMEOUT=5.0)
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    fake_spotify.fail_next("POST", ITEMS, 503)
    app.config["SAVE_RETRY_BUDGET"] = 0
    assert api_save(client, token, preview["id"]).status_code == 503
    app.config["SAVE_RETRY_BUDGET"] = 10
    with app.app_context():
        db.session.execute(update(PlaylistSave).values(
            state=saving.SAVE_ADDING, lease_holder="dead-process", lease_until=utcnow() - timedelta(seconds=1),
            sending_since=utcnow(), sending_items=len(preview["tracks"]), last_error=None))
        db.session.commit()
    [playlist] = fake_spotify.playlists_of("listener-1")
    landing = threading.Timer(1.0, lambda: fake_spotify.set_playlist_items(
        playlist.id, [t["id"] for t in preview["tracks"]]))
    landing.start()
    started = time.monotonic()
    answer = api_save(client, token, preview["id"])
    took = time.monotonic() - started
    landing.join()
    assert answer.status_code == 201, answer.json
    assert took < 1.0 + saving.SETTLE_POLL_SECONDS + 2.0, took  # not the 15 s settle window
    assert fake_spotify.playlists_of("listener-1")[0].track_ids == [t["id"] for t in preview["tracks"]]
    assert len(fake_spotify.calls("POST", ITEMS)) == 1  # only the first, refused one


def test_a_write_is_recorded_as_sent_only_once_its_token_is_in_hand(app, client, catalogue, fake_spotify):
    """The journal records "sending" after the access token is read (and renewed when due), right
    before the request leaves: a renewal that fails leaves a save that sent nothing, which the next
    try simply makes, instead of waiting out the window (3 timeouts) in which a sent create could
    land. (Killed between the two, a worker left such a record: a save finishable only 39 s later.)"""
    from curator.models.user import User
    from curator.spotify.token_store import DatabaseTokenCache, save_token

    app.config.update(SPOTIFY_TIMEOUT=3.0, SAVE_RETRY_BUDGET=0)
    token = api_login(client, fake_spotify)
    preview = api_preview(client, token)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.spotify_id == "listener-1"))
        stored = DatabaseTokenCache(user.id).get_cached_token()
        save_token(user.id, {**stored, "expires_at": int(time.time()) - 10})  # due for renewal
    fake_spotify.fail_next("POST", r"/accounts/api/token", 503)
    assert api_save(client, token, preview["id"]).status_code == 503
    row = record(app, preview["id"])
    assert row.state == saving.SAVE_PENDING and row.sending_since is None, (row.state, row.sending_since)
    assert not fake_spotify.calls("POST", r"^/v1/me/playlists$")
    started = time.monotonic()
    assert api_save(client, token, preview["id"]).status_code == 201
    assert time.monotonic() - started < 3.0  # not the 9 s a create that may have been sent is given
    assert len(fake_spotify.playlists_of("listener-1")) == 1
