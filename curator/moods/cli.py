"""`flask --app curator moods export|import|validate`"""


def register(app) -> None:
    pass
