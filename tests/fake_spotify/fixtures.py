"""pytest fixtures: a spec-checked fake Spotify server and a spec-checked ``responses`` mock.

Load with ``pytest_plugins = ["tests.fake_spotify.fixtures"]`` in ``tests/conftest.py``.

* ``spec_checker`` (session): a ``SpecChecker`` on the shared OpenAPI document.
* ``fake_spotify`` (function): a started ``FakeSpotify``; the test fails at teardown
  if the app sent any request that violates the spec (or the fake itself broke).
* ``spotify_responses`` (function): a ``responses.RequestsMock`` whose every request
  to ``api_base`` (default ``https://api.spotify.com/v1/``) is checked against the
  spec at teardown (or on demand with ``check_calls()``).

Per-test exceptions for retired operations: ``fake_spotify.allow_deprecated("GET
/audio-features")`` or ``spotify_responses.allow_deprecated(...)``; each test gets
its own checker (the parsed document is shared), so allowances never leak.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses

from .server import FakeSpotify
from .spec import DEFAULT_API_BASE, SpecChecker


@pytest.fixture(scope="session")
def spec_checker() -> SpecChecker:
    """One checker for the session (the document is parsed once per process)."""
    return SpecChecker()


@pytest.fixture
def fake_spotify() -> Iterator[FakeSpotify]:
    """A started ``FakeSpotify``; fails the test at teardown on any spec violation."""
    fake = FakeSpotify(checker=SpecChecker())
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
    assert_clean(fake)


def assert_clean(fake: FakeSpotify) -> None:
    """Fail the current test if ``fake`` recorded spec violations or broke itself."""
    problems = [f"spec violation: {v}" for v in fake.violations]
    problems += [f"FakeSpotify error: {e}" for e in fake.errors]
    if problems:
        pytest.fail(
            "requests to the fake Spotify broke the rules:\n  " + "\n  ".join(problems),
            pytrace=False,
        )


class SpecCheckedRequestsMock(responses.RequestsMock):
    """``responses.RequestsMock`` that checks requests to ``api_base`` against the spec."""

    def __init__(
        self,
        checker: SpecChecker | None = None,
        api_base: str = DEFAULT_API_BASE + "/",
        **kwargs: Any,
    ):
        kwargs.setdefault("assert_all_requests_are_fired", False)
        super().__init__(**kwargs)
        self.checker = (
            checker if checker is not None else SpecChecker(api_base=api_base)
        )
        self.api_base = api_base

    def allow_deprecated(self, *operations: str) -> None:
        self.checker.allow_deprecated(*operations)

    def check_calls(self) -> list[str]:
        """Violations among the requests sent so far (each distinct problem once)."""
        problems: list[str] = []
        base = self.api_base.rstrip("/")
        for call in self.calls:
            request = call.request
            url = str(request.url)
            if not (url == base or url.startswith((base + "/", base + "?"))):
                continue
            body = request.body if isinstance(request.body, (bytes, str)) else None
            content_type = request.headers.get("Content-Type")
            for problem in self.checker.check(
                request.method, url, None, body, content_type
            ):
                if problem not in problems:
                    problems.append(problem)
        return problems


@pytest.fixture
def spotify_responses() -> Iterator[SpecCheckedRequestsMock]:
    """A spec-checked ``responses`` mock; fails the test at teardown on any violation."""
    with SpecCheckedRequestsMock(checker=SpecChecker()) as rsps:
        yield rsps
        problems = rsps.check_calls()
    if problems:
        pytest.fail(
            "requests to the Spotify Web API break the OpenAPI spec:\n  "
            + "\n  ".join(problems),
            pytrace=False,
        )
