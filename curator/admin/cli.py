"""`flask --app curator roles ...`"""


def register(app) -> None:
    pass
