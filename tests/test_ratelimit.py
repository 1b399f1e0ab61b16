"""Our own rate limits: in memory without Redis, shared through Redis when REDIS_URL is set."""
from __future__ import annotations

import uuid

import pytest

from curator.ratelimit import ratelimit


def limited_app(app, scope):
    @ratelimit(3, window=60, scope=scope)
    def ping():
        return "pong"

    app.add_url_rule(f"/test-ping-{scope}", f"ping_{scope}", ping)
    return f"/test-ping-{scope}"


def test_in_memory_limit_answers_429_with_retry_after(app):
    path = limited_app(app, f"mem{uuid.uuid4().hex[:6]}")
    client = app.test_client()
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(path)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60


def test_api_paths_get_json_429(app):
    @ratelimit(1, window=60, scope=f"api{uuid.uuid4().hex[:6]}")
    def api_ping():
        return {"ok": True}

    app.add_url_rule("/api/v1/test-ping", "api_test_ping", api_ping)
    client = app.test_client()
    assert client.get("/api/v1/test-ping").status_code == 200
    refused = client.get("/api/v1/test-ping")
    assert refused.status_code == 429 and refused.json["error"]["code"] == "rate_limited"


def test_redis_counts_are_shared_between_app_instances(app, app_config):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    from curator import create_app

    scope = f"redis{uuid.uuid4().hex[:6]}"
    app.config["REDIS_URL"] = url
    first, second = app, create_app({**app_config, "REDIS_URL": url})
    path = limited_app(first, scope)
    limited_app(second, scope)
    # Two "processes" share one budget of 3 through Redis.
    codes = [first.test_client().get(path).status_code, second.test_client().get(path).status_code,
             first.test_client().get(path).status_code, second.test_client().get(path).status_code]
    assert codes == [200, 200, 200, 429]
