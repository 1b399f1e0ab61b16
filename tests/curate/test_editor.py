"""The mood editor through the real app: save, field errors, conflicts, rollback, archive, preview."""
from __future__ import annotations

import re

from curator.engine import mood_to_dict
from curator.extensions import db
from curator.models.audit import AuditEvent
from curator.models.mood import Mood, MoodVersion
from curator.moods.form import form_from_mood
from curator.moods.store import active_moods, get_mood
from tests.helpers import csrf_from, login_with_role

BASE = re.compile(r'name="base_version_id" value="(\d+)"')


def open_editor(client, slug: str):
    """GET the editor; return (form fields as the page holds them, csrf token)."""
    page = client.get(f"/curate/moods/{slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, csrf_from(html), int(BASE.search(html).group(1))


def fields_of(app, slug: str) -> dict:
    with app.app_context():
        return dict(form_from_mood(mood_to_dict(get_mood(slug, include_archived=True).definition)).values)


def versions_of(app, slug: str) -> list[MoodVersion]:
    with app.app_context():
        mood = db.session.scalar(db.select(Mood).where(Mood.slug == slug))
        return [(v.number, v.data, v.note, v.author.spotify_id if v.author else None)
                for v in mood.versions]


def test_save_creates_a_new_version_with_author_and_note(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    _html, token, base = open_editor(client, "calm")
    form = fields_of(app, "calm") | {"csrf_token": token, "base_version_id": base, "action": "save",
                                     "note": "slower", "features.tempo.target": "66"}
    response = client.post("/curate/moods/calm", data=form)
    assert response.status_code == 302
    history = versions_of(app, "calm")
    assert [n for n, *_ in history] == [1, 2]
    _number, data, note, author = history[-1]
    assert data["features"]["tempo"]["target"] == 66 and note == "slower" and author == "cur-1"
    with app.app_context():
        assert get_mood("calm").definition.features["tempo"].target == 66
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "mood.save"))
        assert event.actor_label == "cur-1" and event.target == "calm"
        assert event.before["features"]["tempo"]["target"] != 66


def test_bad_fields_are_named_and_everything_typed_is_kept(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    _html, token, base = open_editor(client, "calm")
    form = fields_of(app, "calm") | {
        "csrf_token": token, "base_version_id": base, "action": "save",
        "name": "Calmer still", "guidance": "Breathe out slowly.\nAnd again.",
        "features.tempo.min": "90", "features.tempo.max": "60", "features.energy.weight": "lots",
    }
    response = client.post("/curate/moods/calm", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # Each error sits next to its field, linked from the summary.
    assert 'id="f-features-tempo-min-error">min (90) is greater than max (60)' in html
    assert 'id="f-features-energy-weight-error">“lots” is not a number' in html
    assert 'href="#f-features-tempo-min"' in html
    # Nothing the curator typed is lost.
    assert 'value="Calmer still"' in html and "Breathe out slowly.\nAnd again.</textarea>" in html
    assert 'name="features.energy.weight" value="lots"' in html
    assert 'name="features.tempo.min" value="90"' in html
    assert len(versions_of(app, "calm")) == 1
    # The summary names fields as their labels do, and a field's name is not repeated in its message.
    response = client.post("/curate/moods/calm", data=form | {"valence": "7", "features.energy.weight": "1"})
    html = response.get_data(as_text=True)
    assert ">Tempo min: min (90) is greater than max (60)</a>" in html
    assert ">Pleasant on the wheel: input should be less than or equal to 1</a>" in html
    assert 'id="f-valence-error">input should be less than or equal to 1' in html

    # A note longer than the column holds is a field error too, not a database failure.
    long_note = fields_of(app, "calm") | {"csrf_token": token, "base_version_id": base, "action": "save",
                                          "note": "why " * 150}
    response = client.post("/curate/moods/calm", data=long_note)
    assert response.status_code == 422
    assert "keep the note under 500 characters (it has 599)" in response.get_data(as_text=True)
    assert len(versions_of(app, "calm")) == 1


def test_second_concurrent_save_is_refused_with_both_versions_shown(app, fake_spotify, moods, labelled_catalogue):
    first, second = app.test_client(), app.test_client()
    login_with_role(first, fake_spotify, app, "cur-1", "curator")
    login_with_role(second, fake_spotify, app, "cur-2", "curator")
    _h1, token1, base1 = open_editor(first, "calm")
    _h2, token2, base2 = open_editor(second, "calm")
    assert base1 == base2
    original = fields_of(app, "calm")

    mine = original | {"csrf_token": token1, "base_version_id": base1, "action": "save", "features.tempo.target": "68"}
    assert first.post("/curate/moods/calm", data=mine).status_code == 302

    theirs = original | {"csrf_token": token2, "base_version_id": base2, "action": "save",
                         "name": "Calm (second editor)", "features.energy.target": "0.15", "note": "mine"}
    refused = second.post("/curate/moods/calm", data=theirs)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Someone else saved this mood" in html and "Nothing was overwritten" in html
    assert 'value="Calm (second editor)"' in html  # the second editor's typing is still in the form
    assert "tempo target 68 →" in html  # and the diff from the first editor's version to theirs
    assert "energy target" in html
    history = versions_of(app, "calm")
    assert len(history) == 2 and history[-1][1]["features"]["tempo"]["target"] == 68
    assert history[-1][1]["name"] == original["name"]

    # Saving again from the conflict page is a deliberate "mine over theirs" on top of version 2.
    new_base = int(BASE.search(html).group(1))
    assert new_base != base2
    again = theirs | {"base_version_id": new_base, "csrf_token": csrf_from(html)}
    assert second.post("/curate/moods/calm", data=again).status_code == 302
    assert versions_of(app, "calm")[-1][1]["name"] == "Calm (second editor)"


def test_rollback_restores_an_old_version_exactly(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    for tempo in ("70", "64"):
        _html, token, base = open_editor(client, "calm")
        form = fields_of(app, "calm") | {"csrf_token": token, "base_version_id": base, "action": "save",
                                         "features.tempo.target": tempo, "guidance": f"New words at {tempo}."}
        assert client.post("/curate/moods/calm", data=form).status_code == 302
    history_page = client.get("/curate/moods/calm/history").get_data(as_text=True)
    assert "Roll back to version 1" in history_page
    current_id = int(re.search(r'name="base_version_id" value="(\d+)"', history_page).group(1))
    token = csrf_from(history_page)

    response = client.post("/curate/moods/calm/rollback",
                           data={"csrf_token": token, "version": 1, "base_version_id": current_id})
    assert response.status_code == 302
    history = versions_of(app, "calm")
    assert [n for n, *_ in history] == [1, 2, 3, 4]
    assert history[-1][1] == history[0][1]
    assert history[-1][2] == "Rolled back to version 1"
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "mood.rollback")).target == "calm"

    # A rollback from a stale page is refused, and changes nothing.
    stale = client.post("/curate/moods/calm/rollback",
                        data={"csrf_token": token, "version": 2, "base_version_id": current_id})
    assert stale.status_code == 409
    assert len(versions_of(app, "calm")) == 4


def test_saving_an_unchanged_mood_or_rolling_back_to_the_same_definition_makes_no_version(
        app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    _html, token, base = open_editor(client, "calm")
    unchanged = fields_of(app, "calm") | {"csrf_token": token, "base_version_id": base, "action": "save",
                                          "note": "just looking"}
    response = client.post("/curate/moods/calm", data=unchanged, follow_redirects=True)
    assert response.status_code == 200
    assert "Nothing changed, so no new version" in response.get_data(as_text=True)
    assert [n for n, *_ in versions_of(app, "calm")] == [1]
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "mood.save")) is None

    # v2 changes the tempo, v3 puts it back: v3 defines what v1 did.
    for tempo in ("70", str(fields_of(app, "calm")["features.tempo.target"])):
        _html, token, base = open_editor(client, "calm")
        form = fields_of(app, "calm") | {"csrf_token": token, "base_version_id": base, "action": "save",
                                         "features.tempo.target": tempo}
        assert client.post("/curate/moods/calm", data=form).status_code == 302
    assert [n for n, *_ in versions_of(app, "calm")] == [1, 2, 3]
    history_page = client.get("/curate/moods/calm/history").get_data(as_text=True)
    current_id = int(BASE.search(history_page).group(1))
    for number in (3, 1):  # the current version itself, and an older one that defines the same mood
        response = client.post("/curate/moods/calm/rollback", follow_redirects=True,
                                data={"csrf_token": csrf_from(history_page), "version": number,
                                      "base_version_id": current_id})
        assert response.status_code == 200
        assert "Version 3 of “Calm” already defines this mood; nothing changed." in response.get_data(as_text=True)
    assert [n for n, *_ in versions_of(app, "calm")] == [1, 2, 3]
    with app.app_context():
        assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "mood.rollback")) is None


def test_diff_reads_field_by_field(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    before = fields_of(app, "calm")
    _html, token, base = open_editor(client, "calm")
    form = before | {"csrf_token": token, "base_version_id": base, "action": "save",
                     "features.tempo.target": "61", "features.tempo.min": "", "features.liveness.target": "0.05",
                     "guidance": before["guidance"] + " Rest here."}
    assert client.post("/curate/moods/calm", data=form).status_code == 302
    html = client.get("/curate/moods/calm/diff?from=1&to=2").get_data(as_text=True)
    assert f"tempo target {before['features.tempo.target']} → 61" in html
    assert "liveness added: target 0.05, weight 1" in html
    if before["features.tempo.min"]:
        assert f"tempo min removed (was {before['features.tempo.min']})" in html
    assert '<span class="diff-add">+Rest here.</span>' in html


def test_archive_hides_a_mood_from_listeners_and_keeps_its_history(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    token = csrf_from(client.get("/curate/moods").data)
    assert client.post("/curate/moods/tired/archive", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert "tired" not in [m.slug for m in active_moods()]
    assert "archived" in client.get("/curate/moods").get_data(as_text=True)
    assert client.get("/curate/moods/tired/history").status_code == 200
    assert client.post("/curate/moods/tired/unarchive", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert "tired" in [m.slug for m in active_moods()]
        actions = list(db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.target == "tired").order_by(AuditEvent.id)))
        assert actions == ["mood.create", "mood.archive", "mood.unarchive"]


def test_a_blank_new_mood_invites_a_target_instead_of_reporting_an_error(app, client, fake_spotify, moods,
                                                                          labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    html = client.get("/curate/moods/new").get_data(as_text=True)
    assert "Give at least one feature a target to see the playlist this mood would make." in html
    assert "to see a preview" not in html and "nothing was saved" not in html
    # Saving it still says what is missing.
    response = client.post("/curate/moods/new", data={"csrf_token": csrf_from(html), "action": "save",
                                                      "slug": "empty", "name": "Empty", "valence": "0.5",
                                                      "arousal": "0.5"})
    assert response.status_code == 422
    assert "a mood needs at least one feature target" in response.get_data(as_text=True)


def test_create_a_mood_and_refuse_a_taken_slug(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    html = client.get("/curate/moods/new").get_data(as_text=True)
    form = {"csrf_token": csrf_from(html), "action": "save", "slug": "hopeful", "name": "Hopeful",
            "colour": "#88aa00", "valence": "0.7", "arousal": "0.5", "allow_explicit": "on",
            "features.valence.target": "0.7", "features.energy.target": "0.5", "features.energy.weight": "0.5"}
    assert client.post("/curate/moods/new", data=form).status_code == 302
    with app.app_context():
        assert get_mood("hopeful").definition.features["energy"].weight == 0.5
    taken = client.post("/curate/moods/new", data=form)
    assert taken.status_code == 409
    assert "already exists" in taken.get_data(as_text=True)
    reserved = client.post("/curate/moods/new", data=form | {"slug": "preview"})
    assert reserved.status_code == 422 and "reserved" in reserved.get_data(as_text=True)
    empty = client.post("/curate/moods/new", data=form | {"slug": "other", **{k: "" for k in form if k.startswith("features.")}})
    assert empty.status_code == 422 and "at least one feature target" in empty.get_data(as_text=True)


def test_live_preview_follows_the_form_without_saving(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    html, token, base = open_editor(client, "calm")
    assert 'id="preview"' in html and "<svg" in html  # the page renders a first preview itself
    fields = fields_of(app, "calm") | {"fixed_slug": "calm", "base_version_id": base}

    slow = client.post("/curate/moods/preview", data=fields | {"features.tempo.target": "65"},
                       headers={"X-CSRFToken": token})
    fast = client.post("/curate/moods/preview", data=fields | {"features.tempo.target": "160",
                                                                "features.tempo.min": "", "features.tempo.max": ""},
                       headers={"X-CSRFToken": token})
    assert slow.status_code == fast.status_code == 200
    slow_html, fast_html = slow.get_data(as_text=True), fast.get_data(as_text=True)
    assert "<html" not in slow_html and 'class="arc-chart"' in slow_html
    assert "Label mix:" in slow_html and "calm" in slow_html
    assert slow_html != fast_html
    tempos = [float(t) for t in re.findall(r'data-tempo="([\d.]+)"', slow_html)]
    assert len(tempos) == 12

    broken = client.post("/curate/moods/preview", data=fields | {"valence": "high"}, headers={"X-CSRFToken": token})
    assert "Fix 1 field" in broken.get_data(as_text=True)
    assert client.post("/curate/moods/preview", data=fields).status_code == 400  # no CSRF token
    # From another start mood, the arc begins there.
    arc = client.post("/curate/moods/preview", data=fields | {"start": "energised"}, headers={"X-CSRFToken": token})
    assert "Start: Energised" in arc.get_data(as_text=True)
    assert len(versions_of(app, "calm")) == 1


def test_preview_button_works_without_javascript(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    _html, token, base = open_editor(client, "calm")
    form = fields_of(app, "calm") | {"csrf_token": token, "base_version_id": base, "action": "preview",
                                     "features.tempo.target": "75"}
    response = client.post("/curate/moods/calm", data=form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="arc-chart"' in html and 'name="features.tempo.target" value="75"' in html
    assert len(versions_of(app, "calm")) == 1


def test_editor_says_so_when_there_is_no_catalogue(app, client, fake_spotify, moods):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    html = client.get("/curate/moods/calm").get_data(as_text=True)
    assert "There is no track catalogue yet" in html


def test_history_shows_which_versions_made_listeners_previews(app, client, fake_spotify, moods, labelled_catalogue):
    listener = app.test_client()
    login_with_role(listener, fake_spotify, app, "listener-1", None)
    token = csrf_from(listener.get("/").data)
    made = listener.post("/api/v1/previews", json={"from": "anxious", "to": "calm", "tracks": 5},
                         headers={"X-CSRFToken": token})
    assert made.status_code in (200, 201), made.get_data(as_text=True)

    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    html = client.get("/curate/moods/calm/history").get_data(as_text=True)
    row = html[html.index("<tbody>"):]
    assert re.search(r"<td>1 <span class=\"badge\">current</span></td>.*?<td>1</td>", row, re.DOTALL)


def test_editor_refuses_huge_weights_nul_text_and_the_reserved_slug_keeping_what_was_typed(
        app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    html, token, base = open_editor(client, "calm")
    form = fields_of(app, "calm") | {"csrf_token": token, "base_version_id": base, "action": "save"}
    huge = client.post("/curate/moods/calm", data=form | {"features.energy.weight": "1e308"})
    page = huge.get_data(as_text=True)
    assert huge.status_code == 422
    assert "weights are relative, use a number from 0 to 100" in page and 'value="1e308"' in page
    # A NUL is refused for every request (curator/inputs.py); other control characters by the mood schema.
    nul = client.post("/curate/moods/calm", data=form | {"name": "Ca\x00lm"})
    assert nul.status_code == 400 and "NUL" in nul.get_data(as_text=True)
    bell = client.post("/curate/moods/calm", data=form | {"guidance": "Breathe\x07 slowly"})
    assert bell.status_code == 422 and "must not contain control characters such as NUL" in bell.get_data(as_text=True)
    assert [n for n, *_ in versions_of(app, "calm")] == [1]  # nothing was saved

    new_page = client.get("/curate/moods/new").get_data(as_text=True)
    new = {"csrf_token": csrf_from(new_page), "action": "save", "slug": "new", "name": "New", "colour": "#88aa00",
           "valence": "0.7", "arousal": "0.5", "features.energy.target": "0.5"}
    reserved = client.post("/curate/moods/new", data=new)
    assert reserved.status_code == 422 and "“new” is reserved" in reserved.get_data(as_text=True)


def test_editor_explains_and_saves_the_listener_lean(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    html, token, base = open_editor(client, "focused")
    assert "Lean toward where listeners place this mood" in html
    assert "These are what tracks are chosen by." in html
    # focused ships without a lean, calm with one: the preview says when its aims include it.
    assert "by the lean toward where listeners place this mood" not in html
    assert "by the lean toward where listeners place this mood" in open_editor(client, "calm")[0]
    form = fields_of(app, "focused") | {"csrf_token": token, "base_version_id": base, "action": "save",
                                        "listener_pull": "0.4"}
    assert client.post("/curate/moods/focused", data=form).status_code == 302
    with app.app_context():
        assert get_mood("focused").definition.listener_pull == 0.4
    _html, token, base = open_editor(client, "focused")
    form = fields_of(app, "focused") | {"csrf_token": token, "base_version_id": base, "action": "save",
                                        "listener_pull": "2"}
    refused = client.post("/curate/moods/focused", data=form)
    assert refused.status_code == 422 and "listener pull (2) must be between 0 and 1" in refused.get_data(as_text=True)
    diff = client.get("/curate/moods/focused/diff?a=1&b=2").get_data(as_text=True)
    assert "listener_pull 0 → 0.4" in diff


def test_the_learned_term_is_shown_in_words_kept_on_save_and_rolled_back(app, client, fake_spotify, moods, catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    html, token, base = open_editor(client, "energised")
    assert "This mood leans toward" in html and 'name="learned.weight"' in html
    shipped = versions_of(app, "energised")[-1][1]["learned"]
    form = fields_of(app, "energised") | {"csrf_token": token, "base_version_id": base, "action": "save",
                                          "note": "less model", "learned.weight": "0.2"}
    assert client.post("/curate/moods/energised", data=form).status_code == 302
    saved = versions_of(app, "energised")[-1][1]["learned"]
    assert saved == shipped | {"weight": 0.2}  # the fitted model rode along untouched
    diff = client.get("/curate/moods/energised/diff?from=1&to=2").get_data(as_text=True)
    assert "learned weight 0.5 → 0.2" in diff
    history_page = client.get("/curate/moods/energised/history").get_data(as_text=True)
    current_id = int(BASE.search(history_page).group(1))
    response = client.post("/curate/moods/energised/rollback",
                           data={"csrf_token": csrf_from(history_page), "version": 1, "base_version_id": current_id})
    assert response.status_code == 302
    assert versions_of(app, "energised")[-1][1]["learned"] == shipped
