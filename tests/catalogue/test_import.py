"""`flask --app curator catalog import`: layouts, bad rows, --skip-bad, idempotence, file problems."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from curator.extensions import db
from curator.models.catalogue import CatalogueImport, CatalogueTrack, TrackTag
from tests.helpers import LABELLED_DEV_CSV as DEV_CSV
from tests.helpers import base62, dev_style, in_app, needs_shared_data

FEATURES_HEADER = "valence,energy,danceability,acousticness,instrumentalness,speechiness,liveness,loudness,tempo"


def count(app, model=CatalogueTrack):
    return in_app(app, lambda: db.session.scalar(select(func.count()).select_from(model)))


def test_import_stores_tracks_features_and_label_tags(app, runner, write_csv):
    path = write_csv(dev_style(12))
    result = runner.invoke(args=["catalog", "import", path])
    assert result.exit_code == 0, result.output
    assert "12 rows read, 12 imported, 0 updated, 0 skipped" in result.output

    def check():
        track = db.session.get(CatalogueTrack, base62(3))
        assert track.name == "Song 3" and track.artist_names == ["Artist 3"]
        assert track.album == "Album 3" and track.duration_ms == 180003 and track.popularity == 3
        assert track.energy == pytest.approx(0.3) and track.loudness == pytest.approx(-8.5)
        assert track.features_source == "import:data.csv" and track.features_fetched_at is not None
        tags = set(db.session.scalars(select(TrackTag.tag).where(TrackTag.track_id == base62(3))))
        assert tags == {"mood:energetic"}
        entry = db.session.scalar(select(CatalogueImport))
        assert (entry.status, entry.imported, entry.rows_read) == ("imported", 12, 12)

    in_app(app, check)


def test_a_bad_row_imports_nothing_names_line_and_column_and_exits_1(app, runner, write_csv):
    path = write_csv(dev_style(60, bad={55: ("energy", "abc")}))
    result = runner.invoke(args=["catalog", "import", path])
    assert result.exit_code == 1
    # Row index 55 is the 57th line (header is line 1).
    assert 'line 57, column energy: "abc" is not a number between 0 and 1' in result.output
    assert "Nothing imported" in result.output
    assert count(app) == 0
    assert in_app(app, lambda: db.session.scalar(select(CatalogueImport.status))) == "rejected"


def test_skip_bad_imports_the_good_rows_and_lists_the_bad(app, runner, write_csv):
    path = write_csv(dev_style(10, bad={2: ("tempo", "fast"), 7: ("id", "not-an-id")}))
    result = runner.invoke(args=["catalog", "import", path, "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert 'line 4, column tempo: "fast" is not a tempo in BPM between 0 and 300' in result.output
    assert 'line 9, column id: "not-an-id" is not a Spotify track id' in result.output
    assert "10 rows read, 8 imported, 0 updated, 2 skipped" in result.output
    assert count(app) == 8


def test_reimport_is_idempotent_and_updates_features(app, runner, write_csv):
    path = write_csv(dev_style(20))
    assert runner.invoke(args=["catalog", "import", path]).exit_code == 0
    changed = dev_style(20).replace(f"{base62(4)},2020-01-01", f"{base62(4)},2020-01-01", 1)
    changed = changed.replace("Song 4,Album 4,Artist 4", "Song 4 (remastered),Album 4,Artist 4")
    path = write_csv(changed)
    result = runner.invoke(args=["catalog", "import", path, "--tag", "source:test"])
    assert result.exit_code == 0, result.output
    assert "20 rows read, 0 imported, 20 updated, 0 skipped" in result.output
    assert count(app) == 20
    assert count(app, TrackTag) == 40  # one mood tag and one --tag each, no duplicates
    assert in_app(app, lambda: db.session.get(CatalogueTrack, base62(4)).name) == "Song 4 (remastered)"


def test_kaggle_tracks_layout_with_semicolon_artists_genres_and_duplicates(app, runner, write_csv):
    text = (
        ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,energy,key,loudness,"
        "mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,time_signature,track_genre\n"
        f"0,{base62(1)},Ingrid Michaelson;ZAYN,Chill Album,To Begin Again,54,214240,False,0.4,0.3,0,-9.7,1,"
        "0.03,0.9,0.0,0.1,0.2,80.0,4,acoustic\n"
        f"1,{base62(1)},Ingrid Michaelson;ZAYN,Chill Album,To Begin Again,54,214240,False,0.4,0.3,0,-9.7,1,"
        "0.03,0.9,0.0,0.1,0.2,80.0,4,pop\n"
        f"2,{base62(2)},\"Tyler, The Creator\",Album,Song,70,200000,True,0.7,0.8,5,-5.0,0,"
        "0.2,0.1,0.0,0.3,0.6,140.0,4,hip-hop\n"
    )
    result = runner.invoke(args=["catalog", "import", write_csv(text)])
    assert result.exit_code == 0, result.output
    assert "3 rows read, 2 imported" in result.output and "1 repeated ids merged" in result.output

    def check():
        first = db.session.get(CatalogueTrack, base62(1))
        assert first.artist_names == ["Ingrid Michaelson", "ZAYN"] and first.mode == 1
        tags = set(db.session.scalars(select(TrackTag.tag).where(TrackTag.track_id == base62(1))))
        assert tags == {"genre:acoustic", "genre:pop"}
        second = db.session.get(CatalogueTrack, base62(2))
        assert second.artist_names == ["Tyler, The Creator"] and second.explicit is True

    in_app(app, check)


def test_python_list_artists_uri_ids_bom_and_semicolon_delimiter(app, runner, write_csv):
    text = (
        "uri;name;artists;" + FEATURES_HEADER.replace(",", ";") + "\n"
        f"spotify:track:{base62(5)};Duet;\"['A', 'B']\";0.5;0.5;0.5;0.5;0.5;0.05;0.1;-7;100\n"
        f"https://open.spotify.com/intl-de/track/{base62(6)}?si=x;Solo;['C'];0.5;0.5;0.5;0.5;0.5;0.05;0.1;-7;100\n"
    )
    result = runner.invoke(args=["catalog", "import", write_csv(text, encoding="utf-8-sig")])
    assert result.exit_code == 0, result.output
    assert in_app(app, lambda: db.session.get(CatalogueTrack, base62(5)).artist_names) == ["A", "B"]
    assert in_app(app, lambda: db.session.get(CatalogueTrack, base62(6)).artist_names) == ["C"]


def test_file_without_feature_columns_imports_tracks_to_be_fetched_later(app, runner, write_csv):
    text = f"spotify_id,track_name,artist_name,genre\n{base62(9)},Quiet,Someone,Ambient\n"
    result = runner.invoke(args=["catalog", "import", write_csv(text)])
    assert result.exit_code == 0, result.output
    assert "features are fetched on refresh" in result.output
    track = in_app(app, lambda: db.session.get(CatalogueTrack, base62(9)))
    assert track.features_source is None


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("id,name,artists\n", "has a header row but no tracks"),
    ("name,energy\nSong,0.5\n", "lacks the required column(s): id (or track_id, spotify_id, uri), artists"),
    (f"id,name,artist,energy,valence\n{base62(1)},S,A,0.5,0.5\n", "lacks: danceability, acousticness"),
])
def test_file_level_problems_are_one_clear_error_and_exit_1(app, runner, write_csv, text, message):
    result = runner.invoke(args=["catalog", "import", write_csv(text)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(app) == 0


def test_missing_file_is_an_error_not_a_traceback(runner, tmp_path):
    result = runner.invoke(args=["catalog", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output


@needs_shared_data(DEV_CSV)
def test_dev_set_imports_completely_and_preview_goes_from_anxious_to_calm(app, runner, moods):
    result = runner.invoke(args=["catalog", "import", str(DEV_CSV)])
    assert result.exit_code == 0, result.output
    assert "344 rows read, 344 imported" in result.output
    result = runner.invoke(args=["curate", "preview", "--from", "anxious", "--to", "calm", "--tracks", "20",
                                 "--json", "--seed", "7"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    tracks = data["tracks"]
    assert len(tracks) == 20
    for key in ("id", "name", "artists", "position_target", "distance"):
        assert key in tracks[0]
    assert "stats" in data

    from curator.moods.store import get_mood

    def distance_to(slug, track):
        mood = in_app(app, lambda: get_mood(slug).definition)
        feats = {n: t.target for n, t in mood.features.items()}
        return sum(abs(track["features"][n] - v) / (200 if n == "tempo" else 60 if n == "loudness" else 1)
                   for n, v in feats.items() if track["features"].get(n) is not None)

    first, last = tracks[0], tracks[-1]
    assert distance_to("anxious", first) < distance_to("calm", first)
    assert distance_to("calm", last) < distance_to("anxious", last)


def test_preview_errors_are_one_line_and_exit_2(app, runner, moods, write_csv):
    result = runner.invoke(args=["curate", "preview", "--from", "anxious", "--to", "calm", "--tracks", "5"])
    assert result.exit_code == 2 and "no tracks with audio features" in result.output
    runner.invoke(args=["catalog", "import", write_csv(dev_style(40))])
    result = runner.invoke(args=["curate", "preview", "--from", "nope", "--to", "calm", "--tracks", "5"])
    assert result.exit_code == 2 and "no mood called" in result.output
    result = runner.invoke(args=["curate", "preview", "--from", "anxious", "--to", "calm", "--tracks", "400"])
    assert result.exit_code == 2 and "Error:" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(args=["curate", "preview", "--from", "anxious", "--to", "calm", "--tracks", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") >= 5


def test_large_import_writes_in_batches_not_row_by_row(app, runner, write_csv):
    """The bulk path: 5,000 rows reach the database in a few hundred statements at most, not one or
    more per row. (How fast it is, is measured in bench/catalogue_import.py, not timed here.)"""
    from sqlalchemy import event

    path = write_csv(dev_style(5000))
    with app.app_context():
        engine = db.engine
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        result = runner.invoke(args=["catalog", "import", path])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert result.exit_code == 0, result.output
    assert count(app) == 5000
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert 0 < len(writes) <= 250, f"{len(writes)} write statements for 5,000 rows"


def test_a_nul_byte_is_a_line_error_and_skip_bad_records_a_report(app, runner, write_csv):
    # PostgreSQL text can't hold NUL: the row is refused with its line and column, never a traceback.
    text = dev_style(6).replace("Song 3,", "So\x00ng 3,", 1)
    result = runner.invoke(args=["catalog", "import", write_csv(text)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "line 5, column name: contains a NUL character (byte 0)" in result.output
    assert count(app) == 0

    result = runner.invoke(args=["catalog", "import", write_csv(text), "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "6 rows read, 5 imported, 0 updated, 1 skipped" in result.output

    def reports():
        return [(r.status, r.skipped, r.problems) for r in db.session.scalars(select(CatalogueImport).order_by(CatalogueImport.id))]

    rejected, imported = in_app(app, reports)
    assert rejected[:2] == ("rejected", 6) and imported[:2] == ("imported", 1)
    assert imported[2] == ["line 5, column name: contains a NUL character (byte 0), which the catalogue can't store; remove it"]


def test_a_bad_row_after_written_batches_still_imports_nothing(app, runner, write_csv, monkeypatch):
    from curator.catalogue import importer

    monkeypatch.setattr(importer, "BATCH", 7)  # many batches are written before the bad row is read
    path = write_csv(dev_style(40, bad={38: ("valence", "1.5")}))
    result = runner.invoke(args=["catalog", "import", path])
    assert result.exit_code == 1
    assert 'line 40, column valence: "1.5" is not a number between 0 and 1' in result.output
    assert count(app) == 0 and count(app, TrackTag) == 0
    result = runner.invoke(args=["catalog", "import", path, "--skip-bad"])
    assert "40 rows read, 39 imported, 0 updated, 1 skipped" in result.output
    assert count(app) == 39


def test_repeated_ids_across_batches_are_merged_and_counted(app, runner, write_csv, monkeypatch):
    from curator.catalogue import importer

    monkeypatch.setattr(importer, "BATCH", 4)
    lines = dev_style(10).splitlines()
    again = lines[2].replace("Song 1,", "Song 1 (again),")  # the same id, nine rows later
    result = runner.invoke(args=["catalog", "import", write_csv("\n".join([*lines, again]) + "\n")])
    assert result.exit_code == 0, result.output
    assert "11 rows read, 10 imported, 0 updated, 0 skipped, 1 repeated ids merged" in result.output
    assert in_app(app, lambda: db.session.get(CatalogueTrack, base62(1)).name) == "Song 1 (again)"


def test_many_bad_rows_are_counted_and_the_first_listed(app, runner, write_csv):
    path = write_csv(dev_style(120, bad={i: ("energy", "x") for i in range(120)}))
    result = runner.invoke(args=["catalog", "import", path])
    assert result.exit_code == 1
    assert "... and 70 more" in result.output and "120 bad row(s) out of 120" in result.output
    problems = in_app(app, lambda: db.session.scalar(select(CatalogueImport.problems)))
    assert len(problems) == 100 and problems[0].startswith("line 2, column energy")


def test_windows_1252_files_are_read_when_named_and_other_bytes_refused(app, runner, write_csv):
    text = f"id,name,artists\n{base62(1)},Café,Beyoncé\n"
    path = write_csv(text, encoding="cp1252")
    result = runner.invoke(args=["catalog", "import", path])  # never guessed: "CafÃ©" was stored
    assert result.exit_code == 1 and "line 2: byte 0xE9 (byte offset 42) is not valid UTF-8" in result.output
    assert count(app) == 0
    result = runner.invoke(args=["catalog", "import", path, "--encoding", "cp1252"])
    assert result.exit_code == 0, result.output
    assert in_app(app, lambda: db.session.get(CatalogueTrack, base62(1)).name) == "Café"
    with open(path, "ab") as handle:
        handle.write(b"\n\x81\x8d\n")  # not Windows-1252 either
    result = runner.invoke(args=["catalog", "import", path, "--encoding", "cp1252"])
    assert result.exit_code == 1 and "line 4: byte 0x81 (byte offset 53) is not valid cp1252" in result.output


def test_progress_is_reported_without_a_terminal(app, runner, write_csv):
    result = runner.invoke(args=["catalog", "import", write_csv(dev_style(12))])
    assert "Checking and writing rows: 12/12" in result.output


# --- files that are not what a CSV import can take: one sentence, exit 1, nothing written (issue 18) ---

def assert_refused(app, result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert count(app) == 0


def test_a_device_is_refused_at_once_instead_of_read_forever(app, runner):
    result = runner.invoke(args=["catalog", "import", "/dev/zero"])
    assert_refused(app, result, "zero is not a regular file")
    assert in_app(app, lambda: db.session.scalar(select(func.count()).select_from(CatalogueImport))) == 0


@pytest.mark.parametrize("escape, message", [
    ("\\x00", "contains a NUL character"), ("\\0", "contains a NUL character"), ("\\ud800", "contains a lone surrogate"),
])
def test_an_escaped_nul_or_surrogate_in_a_list_cell_is_a_row_problem(app, runner, write_csv, escape, message):
    text = dev_style(6).replace("Artist 3,", f"\"['Artist 3', 'B{escape}']\",", 1)
    path = write_csv(text)
    assert_refused(app, runner.invoke(args=["catalog", "import", path]), f"line 5, column artist: an artist's name {message}")
    result = runner.invoke(args=["catalog", "import", path, "--skip-bad"])  # PostgreSQL failed the whole import here
    assert result.exit_code == 0, result.output
    assert "6 rows read, 5 imported, 0 updated, 1 skipped" in result.output


def test_utf16_with_a_byte_order_mark_is_read_and_without_one_named(app, runner, write_csv):
    text = f"id,name,artists\n{base62(1)},Café Müller,Pina\n"
    result = runner.invoke(args=["catalog", "import", write_csv(text, encoding="utf-16")])
    assert result.exit_code == 0, result.output
    assert in_app(app, lambda: db.session.get(CatalogueTrack, base62(1)).name) == "Café Müller"
    result = runner.invoke(args=["catalog", "import", write_csv(text, name="bare.csv", encoding="utf-16-le")])
    assert result.exit_code == 1 and "bare.csv looks like UTF-16 text without a byte-order mark" in result.output
    assert "--encoding utf-16-le" in result.output
    result = runner.invoke(args=["catalog", "import", write_csv(text, name="bare.csv", encoding="utf-16-le"),
                                 "--encoding", "utf-16-le"])
    assert result.exit_code == 0, result.output


def test_an_unknown_encoding_is_one_sentence(app, runner, write_csv):
    path = write_csv(dev_style(2))
    assert_refused(app, runner.invoke(args=["catalog", "import", path, "--encoding", "klingon"]),
                   '"klingon" is not an encoding this system knows')
    assert_refused(app, runner.invoke(args=["catalog", "import", path, "--encoding", "base64"]),
                   '"base64" is not a text encoding')


def test_a_byte_that_is_not_utf8_far_down_names_its_line(app, runner, write_csv):
    path = write_csv(dev_style(3000))
    data = open(path, "rb").read()
    at = data.index(b"Song 2500,")
    open(path, "wb").write(data[:at] + b"Song \xff" + data[at + 5:])
    assert_refused(app, runner.invoke(args=["catalog", "import", path]),
                   f"line 2,502: byte 0xFF (byte offset {at + 5:,}) is not valid UTF-8")


def test_a_line_without_end_is_refused_not_held_in_memory(app, runner, write_csv):
    path = write_csv(dev_style(5) + "x" * 3_000_000 + "\n")
    assert_refused(app, runner.invoke(args=["catalog", "import", path]),
                   "line 7: the line is longer than 1,000,000 characters")
    path = write_csv("," * 2_500_000, name="one-line.csv")
    assert_refused(app, runner.invoke(args=["catalog", "import", path]), "line 1: the line is longer")


def test_an_unclosed_quote_is_reported_where_it_opens(app, runner, write_csv):
    lines = dev_style(3000).splitlines()
    lines[1500] = lines[1500].replace("Song 1499,", '"Song 1499,', 1)  # line 1,501 of the file
    path = write_csv("\n".join(lines) + "\n")
    assert_refused(app, runner.invoke(args=["catalog", "import", path]),
                   "line 1,501: a quoted field that starts on this line is never closed")
    # Near the end the quote swallows the rest of the file: the row is refused where it starts.
    lines = dev_style(20).splitlines()
    lines[18] = lines[18].replace("Song 17,", '"Song 17,', 1)
    path = write_csv("\n".join(lines) + "\n", name="end.csv")
    result = runner.invoke(args=["catalog", "import", path])
    assert_refused(app, result, "line 19, column")
    assert "the row runs on to line 21: is a quote (\") left open on line 19?" in result.output


def test_a_field_longer_than_the_limit_on_one_line(app, runner, write_csv):
    path = write_csv(dev_style(4).replace("Song 2,", '"' + "x" * 200_000 + '",', 1))
    assert_refused(app, runner.invoke(args=["catalog", "import", path]),
                   "line 4: a field is longer than 131,072 characters")


def test_import_help_lists_the_columns_and_datasets_that_fit(runner):
    """Issue 20 item 1: `catalog import --help` says which columns a CSV needs and where to find one."""
    text = runner.invoke(args=["catalog", "import", "--help"]).output
    for column in ("track_id", "track_name", "artists", "valence", "energy", "tempo", "loudness", "track_genre", "mood"):
        assert column in text, column
    assert "rfordatascience/tidytuesday" in text and "spotify-tracks-dataset" in text
