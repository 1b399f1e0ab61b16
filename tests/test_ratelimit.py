"""Our own rate limits (Flask-Limiter): counted in the database without Redis (never per process),
shared through Redis when REDIS_URL is set and in the database while Redis does not answer (then
/healthz says degraded), and a Retry-After that tells the truth."""
from __future__ import annotations

import time
import types
import uuid

import pytest

from curator.ratelimit import ratelimit
from tests.helpers import login


def limited_route(app, limit=3, window=60, path_prefix="/test-ping"):
    """A view limited to `limit` calls per `window` seconds under a scope of its own."""
    scope = f"t{uuid.uuid4().hex[:8]}"

    def ping():
        return {"ok": True}

    # A unique name: Flask-Limiter files decorated limits under the view's qualified name.
    ping.__name__ = ping.__qualname__ = f"ping_{scope}"
    app.add_url_rule(f"{path_prefix}-{scope}", f"ping_{scope}", ratelimit(limit, window=window, scope=scope)(ping))
    return f"{path_prefix}-{scope}"


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """One fake clock for the database's counter and for our Retry-After arithmetic."""
    fake = FakeClock()
    namespace = types.SimpleNamespace(time=fake.time, monotonic=time.monotonic)
    monkeypatch.setattr("curator.ratelimit_storage.time", namespace)
    monkeypatch.setattr("curator.ratelimit.time", namespace)
    return fake


def test_a_limit_counted_in_the_database_answers_429_with_retry_after(app):
    path = limited_route(app)
    client = app.test_client()
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(path)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert b"Please wait" in refused.data  # our error page, not Flask-Limiter's


@pytest.mark.parametrize("gaps", [(0, 0, 0), (0, 10, 10), (0, 29.4, 0.5), (0, 0.5, 58.9)])
def test_waiting_the_told_seconds_lets_the_next_request_through(app, clock, gaps):
    """The bug this replaces: a fixed window told "retry in 25 s" and refused again after that wait."""
    path = limited_route(app)
    client = app.test_client()
    for gap in gaps:
        clock.now += gap
        assert client.get(path).status_code == 200
    clock.now += 0.3
    refused = client.get(path)
    assert refused.status_code == 429
    told = int(refused.headers["Retry-After"])
    assert 0 < told <= 60
    # The told wait is exact: a second less is still refused, the told wait passes.
    clock.now += told - 1
    assert client.get(path).status_code == 429
    clock.now += 1
    assert client.get(path).status_code == 200


def test_window_moves_rather_than_resetting_at_once(app, clock):
    path = limited_route(app)
    client = app.test_client()
    assert client.get(path).status_code == 200
    clock.now += 30
    assert [client.get(path).status_code for _ in range(2)] == [200, 200]
    assert client.get(path).status_code == 429
    clock.now += 30.5  # the first hit has expired, the two later ones have not
    assert [client.get(path).status_code for _ in range(2)] == [200, 429]


def test_api_paths_get_json_429_with_the_wait_in_the_message(app, clock):
    path = limited_route(app, limit=1, path_prefix="/api/v1/test-ping")
    client = app.test_client()
    assert client.get(path).status_code == 200
    clock.now += 20
    refused = client.get(path)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"
    assert refused.headers["Retry-After"] == "41"
    assert "wait 41 seconds" in refused.json["error"]["message"]


def test_limits_are_per_listener_and_per_address_when_anonymous(app, clock, fake_spotify):
    path = limited_route(app, limit=1)
    alice, bob, anonymous, other_address = (app.test_client() for _ in range(4))
    login(alice, fake_spotify, "alice")
    login(bob, fake_spotify, "bob")
    assert alice.get(path).status_code == 200
    assert alice.get(path).status_code == 429
    assert bob.get(path).status_code == 200  # another listener has a budget of their own
    assert anonymous.get(path).status_code == 200
    assert anonymous.get(path).status_code == 429
    assert other_address.get(path, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_ratelimit_enabled_off_switches_limits_off(app_config):
    from curator import create_app

    app = create_app({**app_config, "RATELIMIT_ENABLED": False})
    path = limited_route(app, limit=1)
    client = app.test_client()
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]


def test_redis_counts_are_shared_between_app_instances(request, app_config):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from curator import create_app

    app_config["REDIS_URL"] = url
    first = request.getfixturevalue("app")  # creates the tables both instances use
    second = create_app(dict(app_config))
    path = limited_route(first)
    endpoint = path.rsplit("-", 1)[-1]
    second.add_url_rule(path, endpoint, first.view_functions[f"ping_{endpoint}"])
    # Two "processes" share one budget of 3 through Redis.
    codes = [first.test_client().get(path).status_code, second.test_client().get(path).status_code,
             first.test_client().get(path).status_code, second.test_client().get(path).status_code]
    assert codes == [200, 200, 200, 429]


def test_without_redis_two_apps_on_one_database_share_the_count(app, app_config):
    """Two worker processes without Redis: the limit is counted once, in the database."""
    from curator import create_app

    second = create_app(dict(app_config))
    path = limited_route(app)
    endpoint = path.rsplit("-", 1)[-1]
    second.add_url_rule(path, endpoint, app.view_functions[f"ping_{endpoint}"])
    codes = [app.test_client().get(path).status_code, second.test_client().get(path).status_code,
             app.test_client().get(path).status_code, second.test_client().get(path).status_code]
    assert codes == [200, 200, 200, 429]
    assert app.test_client().get("/healthz").json["rate_limits"] == "database"


def test_redis_unreachable_counts_in_the_database_and_health_says_degraded(app_config):
    from curator import create_app
    from curator.extensions import db
    from tests.database import FreshDatabase  # noqa: F401  (the app fixture's tables, built below)

    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})  # nothing listens on port 1
    with app.app_context():
        db.create_all()
    path = limited_route(app)
    endpoint = path.rsplit("-", 1)[-1]
    second = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0"})
    second.add_url_rule(path, endpoint, app.view_functions[f"ping_{endpoint}"])
    codes = [app.test_client().get(path).status_code, second.test_client().get(path).status_code,
             app.test_client().get(path).status_code, second.test_client().get(path).status_code]
    assert codes == [200, 200, 200, 429]  # one count for both "processes", not one each
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.json["status"] == "degraded" and health.json["rate_limits"] == "database"
    assert any("Redis does not answer" in problem for problem in health.json["problems"])
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
