"""The fast JSON codec answers as Flask's own provider did, and falls back where orjson refuses."""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from curator import jsoncodec
from curator.extensions import db
from curator.models.listening import Preview
from curator.models.user import User


def _providers():
    app = Flask(__name__)
    return jsoncodec.JSONProvider(app), DefaultJSONProvider(app)


def test_answers_read_back_the_same_as_flasks_own():
    fast, flask = _providers()
    value = {"b": [1, 2.5, None, True], "a": {"z": "ü – ✓", "y": -0.0001}, "when": datetime(2026, 12, 1, 17, 30),
             "amount": Decimal("1.10")}
    assert json.loads(fast.dumps(value)) == json.loads(flask.dumps(value))
    assert fast.dumps({"b": 1, "a": 2}) == '{"a":2,"b":1}'  # sorted and compact, as Flask's
    assert json.loads(fast.dumps(value))["when"] == "Tue, 01 Dec 2026 17:30:00 GMT"


def test_what_orjson_refuses_goes_through_the_standard_library():
    fast, flask = _providers()
    for value in ({"seed": 2**80}, {"text": "\ud800"}):
        assert fast.dumps(value) == flask.dumps(value, ensure_ascii=True).replace(", ", ",").replace(": ", ":")
    assert jsoncodec.loads_stored('{"x": NaN}')["x"] != 0  # the standard library reads what orjson won't


def test_pretty_printing_is_left_to_flask():
    fast, _ = _providers()
    assert fast.dumps({"b": 1, "a": 2}, indent=2) == '{\n  "a": 2,\n  "b": 1\n}'


def test_json_columns_round_trip_through_the_codec(app):
    tracks = [{"id": "t1", "name": "Nocturne – ré", "features": {"tempo": 92.5, "mode": None}, "position": 0}]
    with app.app_context():
        user = User(spotify_id="codec-listener")
        db.session.add(user)
        db.session.flush()
        db.session.add(Preview(id="p" * 16, user_id=user.id, from_slug="a", to_slug="b", seed=2**62, tracks=tracks,
                               options={"nudges": {"energy": -0.05}}, stats={}, notices=["Breathe."]))
        db.session.commit()
        db.session.expire_all()
        stored = db.session.get(Preview, "p" * 16)
        assert stored.tracks == tracks and stored.seed == 2**62 and stored.options == {"nudges": {"energy": -0.05}}
        assert db.engine.dialect._json_serializer is jsoncodec.dumps
    assert isinstance(app.json, jsoncodec.JSONProvider)  # the answers too (inputs.JSONProvider builds on it)
