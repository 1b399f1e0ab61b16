"""curator/caching.py: a kept value is computed once per app and version, again when the version
changes, and never shared between two apps in one process."""
from __future__ import annotations

import threading

from curator import caching, create_app


def test_a_value_is_computed_once_per_version_and_again_when_it_changes(app):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    with app.app_context():
        assert caching.per_app("t.value", "v1", compute) == 1
        assert caching.per_app("t.value", "v1", compute) == 1
        assert caching.per_app("t.value", "v2", compute) == 2
        assert caching.peek("t.value") == ("v2", 2)
        caching.forget("t.value")
        assert caching.peek("t.value") is None


def test_two_apps_in_one_process_keep_their_own(app, app_config):
    other = create_app(dict(app_config, INSTANCE_PATH=app_config["INSTANCE_PATH"] + "-other"))
    with app.app_context():
        caching.per_app("t.which", 1, lambda: "first")
    with other.app_context():
        assert caching.per_app("t.which", 1, lambda: "second") == "second"
    with app.app_context():
        assert caching.per_app("t.which", 1, lambda: "third") == "first"


def test_concurrent_callers_compute_once(app):
    calls, started = [], threading.Barrier(8)

    def compute():
        calls.append(1)
        return "done"

    def ask():
        with app.app_context():
            started.wait()
            assert caching.per_app("t.busy", 1, compute) == "done"

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1


def test_a_memo_is_bounded(app):
    with app.app_context():
        memo = caching.memo("t.memo", limit=3)
        memo.update({1: 1, 2: 2, 3: 3, 4: 4})
        assert caching.memo("t.memo", limit=3) == {}  # past its limit: emptied, never unbounded
