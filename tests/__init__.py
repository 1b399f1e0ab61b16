"""Curator's tests, laid out as the code is (tests/test_architecture.py checks it):

- `tests/<package>/` for each package under `curator/` (`tests/playlists/` for `curator/playlists/`);
- `tests/test_<module>.py` for a module at the top of `curator/` (`test_sessions.py`, `test_config.py`,
  `test_app.py` for `create_app`);
- whole-app tests at the top, named for what they hold: the browser journeys (`test_browser*.py`),
  load and servers (`test_concurrency.py`, `test_shared_state.py`, `test_slow_spotify.py`), hostile
  input (`test_bad_input.py`), the house rules (`test_architecture.py`, `test_commit_sites.py`);
- helpers beside them: `conftest.py` (every shared fixture, defined once), `helpers.py`, `database.py`,
  `served.py`, `chromium.py`, the spec-checking Spotify stand-in in `fake_spotify/`.
"""
