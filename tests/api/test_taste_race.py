"""A new listener's first previews sent at the same moment (issue 21): the one row of their taste
is made once, and neither request fails with `UNIQUE constraint failed: listener_tastes.user_id`.

The two requests run on a live server (threads, each with its own database session); both are held
just after they read "no taste row yet", so both go on to make it, the race a double click or two
tabs make by chance."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event, func, select

from curator.extensions import db
from curator.models.taste import ListenerTaste
from tests.served import Listener


def test_concurrent_first_previews_of_a_new_listener_make_one_taste_row(app, live_server, catalogue, fake_spotify):
    listener = Listener(live_server, fake_spotify, "listener-race")
    listener.login()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ListenerTaste)) == 0
        engine = db.engine
    both_read = threading.Barrier(2, timeout=10)
    held: set[int] = set()

    def hold_after_first_read(_conn, _cursor, statement, *_args):
        text = " ".join(statement.split()).upper()
        me = threading.get_ident()
        if text.startswith("SELECT") and "FROM LISTENER_TASTES" in text and me not in held:
            held.add(me)
            try:
                both_read.wait()
            except threading.BrokenBarrierError:
                pass

    event.listen(engine, "after_cursor_execute", hold_after_first_read)
    try:
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda n: listener.preview(familiar=30 + n), range(2)))
    finally:
        event.remove(engine, "after_cursor_execute", hold_after_first_read)
    assert len(held) == 2 and not both_read.broken  # both requests did read "no row" before either wrote
    assert [a.status_code for a in answers] == [201, 201], [a.text[:300] for a in answers]
    with app.app_context():
        rows = db.session.execute(select(ListenerTaste)).scalars().all()
        assert len(rows) == 1
        assert rows[0].steering["familiar"] in (30, 31)  # the last one to commit is remembered
    again = listener.preview()
    assert again.status_code == 201 and again.json()["steering"]["familiar"] in (30, 31)
