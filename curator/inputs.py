"""Request input the database and the JSON parser can take, checked once at the edge.

* Whole numbers: Werkzeug's `type=int` accepts an integer of any size; one past 32 bits
  overflows an SQLite or PostgreSQL INTEGER as soon as it reaches a query.
* NUL characters: PostgreSQL text cannot hold them, so one in a path, query, form, JSON body or
  header failed whichever query it reached. No Curator input has a use for them.
* Deeply nested JSON: the parser's RecursionError is not the ValueError Flask expects, so
  `get_json(silent=True)` let it through instead of answering "not JSON".
* Text that is not Unicode: JSON's "\\ud800" escape makes a lone UTF-16 surrogate, which no
  database encoding (nor our own JSON output) can hold.
* JSON integers beyond a float's range (above 1e308): every number field compares or converts
  them as floats, which raised OverflowError. No Curator number is anywhere near that.
* The same NUL rule for command-line arguments (`roles grant`, `catalog import PATH`, ...).
* Values that end up in a response header (a redirect's target or its #anchor): a CR or LF would
  split the header (Werkzeug then refuses with a 500, after the view has written), and any size
  would be echoed back. `header_value` refuses them when the request is parsed, before any write.
"""
from __future__ import annotations

import json
import sys

import click
from flask import request

from curator import jsoncodec
from curator.problems import CuratorError

DB_INT_MAX = 2**31 - 1
NUL = "\x00"


def db_int(value) -> int:
    """`value` as an int a 32-bit INTEGER column can hold. Raises ValueError otherwise, so that
    `request.args.get(name, type=db_int)` answers its default, as it does for letters."""
    number = int(value)
    if not -DB_INT_MAX - 1 <= number <= DB_INT_MAX:
        raise ValueError(f"{value!r} is outside the database's integer range")
    return number


def _json_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:  # more digits than Python converts (4300)
        number = None
    if number is None or abs(number) > sys.float_info.max:
        raise CuratorError(f"A number in the JSON body is far too large ({text[:20]}…).", code="number_too_large")
    return number


class JSONProvider(jsoncodec.JSONProvider):
    """Flask's JSON (written with orjson, see curator/jsoncodec.py), except that nesting too deep
    to parse is a ValueError (bad JSON, a 400), and integers beyond a float's range or lone
    surrogates in strings are a clear 400 (CuratorError)."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_int", _json_int)
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if not _valid_unicode(value):
            raise CuratorError("The JSON body contains text that is not valid Unicode (a lone "
                               "\\uD800-\\uDFFF surrogate escape).", code="invalid_unicode")
        return value


def _strings(value):
    """Every string in JSON data, keys included (no recursion: nesting may be deep)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _valid_unicode(value) -> bool:
    try:
        for text in _strings(value):
            text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _has_nul(value) -> bool:
    """Whether a string, or any key or string inside JSON data, holds a NUL."""
    return any(NUL in text for text in _strings(value))


def header_value(value: str, field: str, max_length: int) -> str:
    """`value` unchanged if it can go into a response header: no control character (CR, LF, tab,
    ...) and at most `max_length` characters. Otherwise a 400 naming `field` (CuratorError)."""
    if len(value) > max_length:
        raise CuratorError(f"The {field} field is too long (at most {max_length} characters).", field=field,
                           code="too_long")
    if not value.isprintable():
        raise CuratorError(f"The {field} field contains a line break or another control character.",
                           field=field, code="control_character")
    return value


def request_has_nul() -> bool:
    if NUL in request.path or any(NUL in v for v in request.headers.values()):
        return True
    for values in (request.args, request.form):
        if any(NUL in key or any(NUL in v for v in vals) for key, vals in values.lists()):
            return True
    if not request.is_json:
        return False
    # A NUL can only be in JSON's strings as the escape \u0000 (or raw, which the parser refuses):
    # without either in the body there is none, and the parsed body need not be walked.
    body = request.get_data(cache=True)
    if b"\\u0000" not in body and b"\x00" not in body:
        return False
    return _has_nul(request.get_json(silent=True))


def refuse_nul_arguments(command: click.Command) -> None:
    """Make `command` and every subcommand stop with a usage error (exit 2) on a NUL in any
    argument, before click converts it (a path with a NUL fails inside os.stat)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            refuse_nul_arguments(sub)
    parse_args = command.parse_args
    if getattr(parse_args, "refuses_nul", False):
        return

    def checked(ctx, args):
        if any(NUL in arg for arg in args):
            raise click.UsageError("An argument contains a NUL character (\\0), which no argument accepts.", ctx=ctx)
        return parse_args(ctx, args)

    checked.refuses_nul = True
    command.parse_args = checked


def init_app(app) -> None:
    app.json = JSONProvider(app)

    @app.before_request
    def refuse_nul_characters():
        if request_has_nul():
            raise CuratorError("The request contains a NUL character (\\0), which no field accepts.",
                               code="nul_character")
