"""Calibrating a mood from example tracks, through the real app."""
from __future__ import annotations

import html as htmllib
import re

import pytest

from curator.engine import mood_to_dict
from curator.extensions import db
from curator.models.mood import Mood
from curator.moods.examples import calibrate, parse_track_refs, tag_mask
from curator.moods.store import get_mood
from tests.helpers import csrf_from, login_with_role

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
PRECISION = re.compile(r"<td>Current \(version \d+\)</td><td>([\d.]+) .*?<td>Proposal</td><td><strong>([\d.]+)</strong>", re.DOTALL)


def proposal_form(html: str) -> dict:
    """The hidden fields of the accept form (the last form on the page)."""
    form = html[html.rindex("<form"):]
    return {name: htmllib.unescape(value) for name, value in HIDDEN.findall(form)}


@pytest.mark.parametrize("slug, tag", [("calm", "mood:calm"), ("melancholic", "mood:sad")])
def test_calibration_on_labelled_examples_is_at_least_as_good_as_shipped(app, client, fake_spotify, moods,
                                                                          dev_catalogue, slug, tag):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    page = client.get(f"/curate/moods/{slug}/calibrate").get_data(as_text=True)
    assert f'<option value="{tag}"' in page
    response = client.post(f"/curate/moods/{slug}/calibrate", data={"csrf_token": csrf_from(page), "tag": tag})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    current, proposed = (float(x) for x in PRECISION.search(html).groups())
    assert proposed >= current
    # The page's numbers are the engine's numbers on the same examples.
    with app.app_context():
        shipped = get_mood(slug).definition
    expected = calibrate(dev_catalogue, shipped, tag_mask(dev_catalogue, tag))
    assert (current, proposed) == (round(expected.precision_current, 2), round(expected.precision_proposed, 2))
    # "Accept" is the primary action only when the proposal finds more of the examples.
    accept_is_primary = 'class="primary">Accept and save' in html
    assert accept_is_primary == (expected.precision_proposed > expected.precision_current)
    assert ('class="button primary"' in html and "Keep the current version" in html) != accept_is_primary

    # Accept: the proposal is saved as a new version with a note saying where it came from (or, when
    # it proposes exactly the current definition, nothing is saved and the page says so).
    form = proposal_form(html) | {"action": "save"}
    answer = client.post(f"/curate/moods/{slug}", data=form, follow_redirects=True)
    assert answer.status_code == 200
    unchanged = mood_to_dict(expected.proposed) == mood_to_dict(shipped)
    assert ("Nothing changed, so no new version" in answer.get_data(as_text=True)) == unchanged
    with app.app_context():
        mood = db.session.scalar(db.select(Mood).where(Mood.slug == slug))
        assert mood.current_version.number == (1 if unchanged else 2)
        if not unchanged:
            assert mood.current_version.note.startswith(f"Calibrated from {expected.examples} examples (tag {tag})")
        saved = mood.current_version.data
    assert saved == mood_to_dict(expected.proposed)


def test_pasted_tracks_are_normalised_and_unknown_ones_listed(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    page = client.get("/curate/moods/calm/calibrate").get_data(as_text=True)
    ids = [str(labelled_catalogue.ids[i]) for i in range(0, 80, 4)]  # the calm-ish tracks
    pasted = "\n".join(
        [f"https://open.spotify.com/track/{ids[0]}?si=abc", f"spotify:track:{ids[1]}", *ids[2:],
         "4uLU6hMCjMI75M1A2tKUQC", "not-a-track"]
    )
    response = client.post("/curate/moods/calm/calibrate", data={"csrf_token": csrf_from(page), "tracks": pasted})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Proposal from {len(ids)} examples" in html
    assert "Not in the catalogue (skipped): 4uLU6hMCjMI75M1A2tKUQC" in html
    assert "Not a track link, URI or id (skipped): not-a-track" in html

    # "Adjust in the editor" opens the proposal in the editor without saving it.
    form = proposal_form(html) | {"action": "edit"}
    editor = client.post("/curate/moods/calm", data=form)
    assert editor.status_code == 200 and 'id="mood-form"' in editor.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(Mood).where(Mood.slug == "calm")).current_version.number == 1


def test_calibration_needs_examples(app, client, fake_spotify, moods, labelled_catalogue):
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    token = csrf_from(client.get("/curate/moods/calm/calibrate").data)
    nothing = client.post("/curate/moods/calm/calibrate", data={"csrf_token": token, "tracks": ""})
    assert nothing.status_code == 422 and "paste Spotify track links" in nothing.get_data(as_text=True)
    unknown = client.post("/curate/moods/calm/calibrate", data={"csrf_token": token, "tracks": "4uLU6hMCjMI75M1A2tKUQC"})
    assert unknown.status_code == 422 and "None of those tracks is in the catalogue" in unknown.get_data(as_text=True)
    bad_tag = client.post("/curate/moods/calm/calibrate", data={"csrf_token": token, "tag": "mood:nope"})
    assert bad_tag.status_code == 422


def test_parse_track_refs():
    refs = parse_track_refs(
        "https://open.spotify.com/intl-de/track/4uLU6hMCjMI75M1A2tKUQC?si=x, spotify:track:4uLU6hMCjMI75M1A2tKUQC\n"
        "7ouMYWpwJ422jRcDASZB7P  https://open.spotify.com/album/4uLU6hMCjMI75M1A2tKUQC  short"
    )
    assert refs.ids == ["4uLU6hMCjMI75M1A2tKUQC", "7ouMYWpwJ422jRcDASZB7P"]
    assert refs.unrecognised == ["https://open.spotify.com/album/4uLU6hMCjMI75M1A2tKUQC", "short"]


def test_accept_is_not_the_primary_action_when_the_proposal_is_no_better(app, client, fake_spotify, moods, labelled_catalogue):
    from curator.engine import CurateOptions, Length, curate

    with app.app_context():
        calm = get_mood("calm").definition
    # The examples are exactly what calm already picks: no proposal can find them better.
    picks = curate(labelled_catalogue, calm, calm, Length(tracks=20), CurateOptions(max_per_artist=20, seed=0)).tracks
    login_with_role(client, fake_spotify, app, "cur-1", "curator")
    page = client.get("/curate/moods/calm/calibrate").get_data(as_text=True)
    html = client.post("/curate/moods/calm/calibrate",
                       data={"csrf_token": csrf_from(page), "tracks": "\n".join(t.id for t in picks)}).get_data(as_text=True)
    current, proposed = (float(x) for x in PRECISION.search(html).groups())
    assert current == 1.0 and proposed <= current
    assert 'class="primary">Accept and save' not in html
    assert '<a class="button primary" href="/curate/moods/calm">Keep the current version</a>' in html
