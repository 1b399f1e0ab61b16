"""Text files the command line reads (CSV datasets, moods YAML): what a file must be, and how its
bytes become text.

* Only regular files. A device or a pipe can be endless (`/dev/zero` read until MemoryError, or
  forever), and the importer reads its file more than once.
* The encoding is never guessed from the content: UTF-8 unless the file starts with a byte-order
  mark (UTF-8, UTF-16 or UTF-32, then read as such) or the caller names one (`--encoding`). A
  guess read a whole file as Windows-1252 because of one stray byte and stored "CafÃ©".
* A byte that does not decode is an error naming its line and byte offset, so it can be found.
"""
from __future__ import annotations

import codecs
import os
import stat

from curator.problems import Unprocessable

CHUNK = 1 << 20
_BOMS = (  # longest first: UTF-32-LE's mark begins with UTF-16-LE's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


class TextFileError(Unprocessable):
    """The file can't be read as text: missing, not a regular file, too large, or a byte that does
    not decode. The message is one sentence that names the file (and the line, when there is one)."""


def regular_file(path: str, filename: str) -> int:
    """The size of the regular file at `path`; TextFileError for anything else."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise TextFileError(f"Can't read {path}: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise TextFileError(f"{filename} is a folder, not a file.")
    if not stat.S_ISREG(info.st_mode):
        raise TextFileError(f"{filename} is not a regular file (a device, pipe or socket has no end to read "
                            "to); save the data to a file and give that file's path.")
    return info.st_size


def text_encoding(name: str) -> str:
    """`name` as Python calls the encoding (an --encoding value); TextFileError if it is not one."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise TextFileError(f'"{name}" is not an encoding this system knows (try utf-8, cp1252, latin-1 '
                            "or utf-16).") from None
    if not getattr(info, "_is_text_encoding", True):
        raise TextFileError(f'"{name}" is not a text encoding.')
    return info.name


def choose_encoding(head: bytes, filename: str, requested: str | None = None) -> str:
    """The encoding to read a file whose first bytes are `head`: the one requested, else the one
    its byte-order mark names, else UTF-8. A file that looks like UTF-16 without a mark is refused
    with a sentence that says so (read as UTF-8 it would be text full of NUL characters)."""
    if requested:
        return text_encoding(requested)
    for mark, encoding, _label in _BOMS:
        if head.startswith(mark):
            return encoding
    even, odd = head[:64:2], head[1:64:2]
    order = None
    if len(odd) >= 4 and even.count(0) == 0 and odd.count(0) * 4 >= len(odd) * 3:
        order = "utf-16-le"
    elif len(odd) >= 4 and odd.count(0) == 0 and even.count(0) * 4 >= len(even) * 3:
        order = "utf-16-be"
    if order:
        raise TextFileError(f"{filename} looks like UTF-16 text without a byte-order mark; save it as UTF-8, "
                            f"or name its encoding (--encoding {order}).")
    return "utf-8-sig"


def _label(encoding: str) -> str:
    names = {"utf_8": "UTF-8", "utf_8_sig": "UTF-8", "utf_16": "UTF-16", "utf_32": "UTF-32"}
    name = codecs.lookup(encoding).name.replace("-", "_")
    return names.get(name, encoding)


class Decoder:
    """Bytes to text, chunk by chunk, strictly; counts the line breaks it has passed so that a byte
    that does not decode is reported with its line. `hint` ends that message (what to do)."""

    def __init__(self, encoding: str, filename: str, hint: str):
        self.encoding, self.filename, self.hint = encoding, filename, hint
        self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.offset = 0  # bytes decoded so far
        self.newlines = 0  # line breaks in the text answered so far

    def decode(self, block: bytes, final: bool = False) -> str:
        state = self._decoder.getstate()
        try:
            text = self._decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            raise self._located(exc, state, block) from None
        self.offset += len(block)
        self.newlines += text.count("\n")
        return text

    def _located(self, exc: UnicodeDecodeError, state, block: bytes) -> TextFileError:
        pending = len(state[0])  # bytes of a character begun in the previous block
        cut = max(0, exc.start - pending)
        before = codecs.getincrementaldecoder(self.encoding)("replace")
        before.setstate(state)
        line = self.newlines + before.decode(block[:cut]).count("\n") + 1
        where = self.offset - pending + exc.start
        bad = exc.object[exc.start:exc.end]
        if not bad:
            return TextFileError(f"{self.filename} ends in the middle of a {_label(self.encoding)} character; "
                                 f"{self.hint}")
        shown = " ".join(f"0x{b:02X}" for b in bad[:4])
        return TextFileError(f"{self.filename}, line {line:,}: byte{'s' if len(bad) > 1 else ''} {shown} (byte offset "
                             f"{where:,}) {'are' if len(bad) > 1 else 'is'} not valid {_label(self.encoding)}; "
                             f"{self.hint}")


def read_text(path: str, *, max_bytes: int, what: str, encoding: str | None = None) -> str:
    """The whole text of a small file (a moods YAML): a regular file of at most `max_bytes`, UTF-8
    unless its byte-order mark says otherwise. TextFileError with one sentence otherwise."""
    filename = os.path.basename(path)
    if regular_file(path, filename) > max_bytes:
        raise TextFileError(f"{filename} is larger than {max_bytes // 1024:,} KiB; {what} is far smaller. "
                            "Is it the right file?")
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise TextFileError(f"Can't read {path}: {exc.strerror or exc}.") from None
    if len(data) > max_bytes:  # it grew since
        raise TextFileError(f"{filename} is larger than {max_bytes // 1024:,} KiB; {what} is far smaller.")
    decoder = Decoder(choose_encoding(data, filename, encoding), filename, "save it as UTF-8 and try again.")
    return decoder.decode(data, final=True)
