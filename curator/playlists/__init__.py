"""The playlist domain: previews and their edits, the save to Spotify, the listener's records,
care rules and "from music I know".

Its one door is `curator.playlists.service` (the use cases, each owning its transaction), which
the listener's pages (`curator.listen`) and the JSON API (`curator.api`) both call; its problems
are `curator.playlists.errors`. Every other module here is internal to the domain (a test walks
the imports: `tests/test_architecture.py`).
"""
