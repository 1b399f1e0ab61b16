"""JSON through orjson, for API answers and the JSON columns, with the standard library behind it.

A preview is a few kilobytes of JSON written to its row and sent to the listener; the standard
library's encoder was about a tenth of a preview's server time, orjson does the same work several
times faster. Output is what Flask's own provider gives (sorted keys, compact, dates as HTTP
dates through Flask's `default`), except that non-ASCII text is sent as UTF-8 instead of
`\\u` escapes. Whatever orjson refuses (integers beyond 64 bits, lone surrogates, text that
is not UTF-8) goes through the standard library exactly as before, so no input that used to work
fails now.
"""
from __future__ import annotations

import json
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
            | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)


def dumps(obj: Any, default=None) -> str:
    """Compact JSON text with sorted keys."""
    try:
        return orjson.dumps(obj, default=default, option=_OPTIONS).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return json.dumps(obj, default=default, sort_keys=True, separators=(",", ":"))


def loads_stored(text: str | bytes) -> Any:
    """JSON that Curator wrote itself (the JSON columns). Not for what people send: orjson reads an
    integer beyond 64 bits as a float, where the standard library keeps it exact, so request
    bodies keep the standard library's reading."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_COMPACT = {"separators": (",", ":"), "sort_keys": True}


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with the fast encoder for compact, key-sorted output (every answer
    but a debug run's pretty-printed ones); anything else goes to Flask's own."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        default = kwargs.pop("default", self.default)
        if any(_COMPACT.get(key, object()) != value for key, value in kwargs.items()):
            return super().dumps(obj, default=default, **kwargs)
        return dumps(obj, default=default)
