"""Mood definitions are parsed once per version, not on every request that names a mood."""
from __future__ import annotations

from sqlalchemy import event

from curator.engine import mood_to_dict
from curator.extensions import db
from curator.moods import store


def test_a_version_is_parsed_once_and_a_new_version_is_seen_at_once(app, monkeypatch):
    parsed = []
    real = store.parse_mood
    monkeypatch.setattr(store, "parse_mood", lambda data: parsed.append(data["slug"]) or real(data))
    with app.app_context():
        store.add_shipped_if_empty()
        db.session.commit()
        parsed.clear()
        first = store.get_mood("calm")
        assert store.get_mood("calm").definition is first.definition
        moods = store.active_moods()
        assert parsed.count("calm") == 1 and len(parsed) == len(moods)  # each version once
        assert next(m for m in moods if m.slug == "calm").definition is first.definition

        data = mood_to_dict(first.definition) | {"guidance": "Breathe out slowly."}
        store.save_version(data, base_version_id=first.version_id)  # (validating parses it too)
        db.session.commit()
        saved = parsed.count("calm")
        second = store.get_mood("calm")
        assert second.version_id != first.version_id and second.definition.guidance == "Breathe out slowly."
        assert store.get_mood("calm").definition is second.definition and parsed.count("calm") <= saved + 1


def test_a_request_reads_the_moods_once_and_sees_its_own_writes(app):
    with app.app_context():
        store.add_shipped_if_empty()
        db.session.commit()
    reads = []
    with app.test_request_context("/"):
        engine = db.engine

        def count(_conn, _cursor, statement, *_args):
            if "FROM moods" in statement:
                reads.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            calm = store.get_mood("calm")
            assert store.get_mood("anxious").slug == "anxious"
            assert [m.slug for m in store.active_moods()][:1] and len(reads) == 1  # one statement so far

            # A write in this request is seen at once, before it is even flushed...
            data = mood_to_dict(calm.definition) | {"guidance": "Breathe out slowly."}
            store.save_version(data, base_version_id=calm.version_id)
            assert store.get_mood("calm").definition.guidance == "Breathe out slowly."
            # ...and forgotten with a rollback.
            db.session.rollback()
            assert store.get_mood("calm").version_id == calm.version_id
        finally:
            event.remove(engine, "before_cursor_execute", count)
    # Another request reads again (and so sees what others committed meanwhile).
    with app.test_request_context("/"):
        assert store.get_mood("calm").version_id == calm.version_id
