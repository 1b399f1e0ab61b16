"""The learned anchors Curator's moods are judged against (issue 19), for the bench only.

For each mood's labels (a class, or a listener region), two off-the-shelf classifiers fitted on the
training rows rank the held-out rows, and their top 20 are what "a learned model" would pick:

* a logistic regression on standardised features, scikit-learn's defaults with ``max_iter=2000``;
* a random forest of 400 trees, ``min_samples_leaf=5``, ``random_state=0`` (on the raw features).

The features are those issue 19 names: the audio features plus mode, key, time_signature and
duration_ms (a column a set lacks is left out). scikit-learn is a development requirement only:
the app fits its own learned terms with numpy (curator/engine/learned.py).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

ANCHOR_FEATURES = ("danceability", "energy", "valence", "tempo", "acousticness", "loudness", "speechiness",
                   "instrumentalness", "liveness", "mode", "key", "time_signature", "duration_ms")
ALIASES = {"duration_ms": ("duration_ms", "length")}
ANCHORS = ("logistic regression", "random forest")


def anchor_matrix(path: Path) -> np.ndarray:
    """(n, features) of the anchor features the CSV has, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = []
    for name in ANCHOR_FEATURES:
        found = next((c for c in ALIASES.get(name, (name,)) if c in rows[0]), None)
        if found is not None:
            columns.append([float(r[found]) for r in rows])
    return np.asarray(columns, dtype=np.float64).T


def anchor_scores(x_train: np.ndarray, labels: dict[str, np.ndarray], x_held: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """{anchor: {mood: predicted probability per held-out row}} for every mood's labels."""
    scaler = StandardScaler().fit(x_train)
    z_train, z_held = scaler.transform(x_train), scaler.transform(x_held)
    out: dict[str, dict[str, np.ndarray]] = {name: {} for name in ANCHORS}
    for slug, y in labels.items():
        logistic = LogisticRegression(max_iter=2000).fit(z_train, y)
        out["logistic regression"][slug] = logistic.predict_proba(z_held)[:, 1]
        forest = RandomForestClassifier(n_estimators=400, min_samples_leaf=5, random_state=0, n_jobs=1).fit(x_train, y)
        out["random forest"][slug] = forest.predict_proba(x_held)[:, 1]
    return out
