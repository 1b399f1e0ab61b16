"""`flask --app curator catalog ...`, `seeds ...` and `curate preview`."""


def register(app) -> None:
    pass
