"""A listener's preview says when the catalogue has few tracks close to a mood (issue 10)."""
from __future__ import annotations

from tests.helpers import csrf_from, import_with_cli, login_with_role, synthetic_records, write_records_csv


def test_preview_notes_a_thin_mood_instead_of_stretching_silently(app, client, runner, fake_spotify, moods, tmp_path):
    records = synthetic_records(240)
    calm_like = [r for r in records if "mood:calm" in r["tags"]]
    others = [r for r in records if "mood:calm" not in r["tags"]]
    import_with_cli(app, runner, write_records_csv(others + calm_like[:3], tmp_path / "few-calm.csv"))
    login_with_role(client, fake_spotify, app, "listener-1", None)
    token = csrf_from(client.get("/").data)
    made = client.post("/api/v1/previews", json={"from": "energised", "to": "calm", "tracks": 10},
                       headers={"X-CSRFToken": token})
    assert made.status_code in (200, 201), made.get_data(as_text=True)
    notices = made.get_json()["notices"]
    thin = [n for n in notices if "close to Calm" in n]
    assert len(thin) == 1 and "may feel like a neighbouring mood" in thin[0]
    assert not any("close to Energised" in n for n in notices)  # energised is well supplied
