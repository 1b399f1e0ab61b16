"""Engine errors. Every one carries a message fit to show a listener or an editor."""
from __future__ import annotations


class EngineError(Exception):
    """Base class for all curation-engine errors; ``str(err)`` is a human sentence."""


class CatalogueEmpty(EngineError):
    """The catalogue (after restricting to candidate ids) has no tracks at all."""


class LengthInvalid(EngineError):
    """The requested playlist length is out of bounds."""


class RecordInvalid(EngineError):
    """A catalogue record lacks a field the engine needs."""


class EditInvalid(EngineError):
    """An edit names a position the playlist does not have, or asks for two things at once."""
