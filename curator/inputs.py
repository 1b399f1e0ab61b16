"""Request input the database and the JSON parser can take, checked once at the edge.

* Whole numbers: Werkzeug's `type=int` accepts an integer of any size; one past 32 bits
  overflows an SQLite or PostgreSQL INTEGER as soon as it reaches a query.
* NUL characters: PostgreSQL text cannot hold them, so one in a path, query, form, JSON body or
  header failed whichever query it reached. No Curator input has a use for them.
* Deeply nested JSON: the parser's RecursionError is not the ValueError Flask expects, so
  `get_json(silent=True)` let it through instead of answering "not JSON".
"""
from __future__ import annotations

import json

from flask import request
from flask.json.provider import DefaultJSONProvider

from curator.errors import CuratorError

DB_INT_MAX = 2**31 - 1
NUL = "\x00"


def db_int(value) -> int:
    """`value` as an int a 32-bit INTEGER column can hold. Raises ValueError otherwise, so that
    `request.args.get(name, type=db_int)` answers its default, as it does for letters."""
    number = int(value)
    if not -DB_INT_MAX - 1 <= number <= DB_INT_MAX:
        raise ValueError(f"{value!r} is outside the database's integer range")
    return number


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that nesting too deep to parse is a ValueError (bad JSON, a 400)."""

    def loads(self, s, **kwargs):
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _has_nul(value) -> bool:
    """Whether a string, or any key or string inside JSON data, holds a NUL (no recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def request_has_nul() -> bool:
    if NUL in request.path or any(_has_nul(v) for v in request.headers.values()):
        return True
    for values in (request.args, request.form):
        if any(NUL in key or any(NUL in v for v in vals) for key, vals in values.lists()):
            return True
    return request.is_json and _has_nul(request.get_json(silent=True))


def init_app(app) -> None:
    app.json = JSONProvider(app)

    @app.before_request
    def refuse_nul_characters():
        if request_has_nul():
            raise CuratorError("The request contains a NUL character (\\0), which no field accepts.",
                               code="nul_character")
