"""Read a product file (CSV or JSONL) into validated rows, without touching the database.

Operators export these files from Excel, so the reader expects what Excel produces in
Japan: CP932 (Shift_JIS) or UTF-8 with a BOM, yen prices with thousands commas, stray
whitespace. A bad row never stops the file: it becomes a `RowError` naming the physical
line, so the operator can fix exactly that line.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from upload_scheduler import defaults

ENCODINGS = ("auto", "utf-8", "cp932")
REQUIRED_COLUMNS = ("asin", "title", "price")
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

# The columns are INTEGER / VARCHAR(64) on PostgreSQL: larger values would fail a whole
# chunk there, so they are refused row by row instead.
MAX_INT = 2**31 - 1
MAX_ASIN_LENGTH = 64
# One rule for CSV and JSONL: a field larger than this (UTF-8 bytes) is a bad row. No
# column of a product needs more, and a row is held in memory whole.
MAX_FIELD_BYTES = 1 << 20
# The csv module refuses fields over its limit (128 KiB by default) with an error that
# loses the row's end; it is raised so that fields up to the rule's limit and somewhat
# beyond are read whole and reported by the rule, while a runaway quote still stops.
_CSV_FIELD_LIMIT = 16 * MAX_FIELD_BYTES
# An ASIN reaches terminals, log lines and URLs: printable ASCII, no space.
_ASIN = re.compile(r"[\x21-\x7e]+")

_BLOCK = 1 << 20
_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_PLAIN_INT = re.compile(r"[0-9]+")
_GROUPED_INT = re.compile(r"[0-9]{1,3}(,[0-9]{3})+")
# NFKC turns ￥ into ¥; CP932 byte 0x5C, shown as ¥ by Japanese Windows, decodes as a
# backslash.
_YEN_SIGNS = ("¥", "\\")
_SHOWN_MAX = 40
# http(s)://[user@]host[:port][/path?query#fragment], no whitespace. A regular expression,
# and one match for all the images of a row, because urlsplit on every image of 100,000
# rows costs seconds.
_URL = (
    r"(?i:https?)://(?:[^\s/?#@]*@)?(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@:\[\]]+)(?::[0-9]*)?(?:[/?#]\S*)?"
)
_WEB_URL = re.compile(_URL)
_WEB_URL_LINES = re.compile(rf"{_URL}(?:\n{_URL})*")


@dataclass(frozen=True)
class ProductRow:
    line: int
    asin: str
    title: str
    description: str
    price: int
    stock: int
    images: tuple[str, ...]
    brand: str
    category: str
    # Optional columns: "" when the file has none, as for brand and category.
    title_en: str = ""
    description_en: str = ""


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


class ImportFileError(Exception):
    """The file as a whole cannot be read: nothing in it is imported."""


@dataclass(frozen=True)
class SourceFile:
    """A product file checked to be readable: its format, codec and physical line count."""

    path: Path
    format: str
    encoding: str
    lines: int


def detect_encoding(head: bytes) -> str:
    """The codec for bytes from the start of a file: a UTF-8 BOM wins, then valid UTF-8
    (a character cut at the end of `head` is fine), else CP932, Excel's Japanese default."""
    if head.startswith(_UTF8_BOM):
        return "utf-8-sig"
    if _first_bad_line([head], "utf-8", final=False) is None:
        return "utf-8"
    return "cp932"


def open_source(path: Path, encoding: str = "auto") -> SourceFile:
    """Check the whole file decodes before any row is read, so an undecodable byte near
    the end cannot leave half a file imported."""
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        known = ", ".join(FORMATS)
        raise ImportFileError(f"{path}: unknown file type {path.suffix!r} (use {known})")
    if encoding not in ENCODINGS:
        raise ImportFileError(f"unknown encoding {encoding!r} (use {', '.join(ENCODINGS)})")
    head = _read_head(path)
    if head.startswith(_UTF16_BOMS):
        raise ImportFileError(
            f"{path}: the file is UTF-16 (Excel's 'Unicode text'); "
            "save it as 'CSV UTF-8' or 'CSV (comma delimited)'"
        )
    codec = _resolve_codec(path, head, encoding)
    return SourceFile(path=path, format=file_format, encoding=codec, lines=_count_lines(path))


def read_products(path: Path, encoding: str = "auto") -> Iterator[ProductRow | RowError]:
    """Every data row of the file, valid or not, in file order."""
    yield from iter_rows(open_source(path, encoding))


def iter_rows(source: SourceFile) -> Iterator[ProductRow | RowError]:
    """The rows of a checked file; an asin seen before is reported as a duplicate."""
    records = _csv_records(source) if source.format == "csv" else _jsonl_records(source)
    seen: dict[str, int] = {}
    for line, record in records:
        if isinstance(record, RowError):
            yield record
            continue
        asin = _asin_key(record)
        if asin in seen:
            yield RowError(line, "asin", f"duplicate of line {seen[asin]} ({_shown(asin)})")
            continue
        if asin:
            seen[asin] = line
        result = parse_record(line, record)
        if isinstance(result, ProductRow):
            yield result
        else:
            yield from result


def parse_record(line: int, record: dict[str, Any]) -> ProductRow | list[RowError]:
    """One row's values checked field by field; every problem of the row is reported."""
    values: list[Any] = []
    errors: list[RowError] = []
    for name, check in _CHECKS:
        try:
            values.append(check(record.get(name)))
        except ValueError as exc:
            errors.append(RowError(line, name, str(exc)))
    if errors:
        return errors
    return ProductRow(line, *values)


def _asin_key(record: dict[str, Any]) -> str:
    """The asin a row claims, even when the row is bad otherwise: a later row with the
    same asin is a duplicate whichever of the two the operator fixes."""
    try:
        return _asin(record.get("asin"))
    except ValueError:
        return ""


# --- files -------------------------------------------------------------------------


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(_BLOCK)
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def _blocks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as f:
            while block := f.read(_BLOCK):
                yield block
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def _resolve_codec(path: Path, head: bytes, requested: str) -> str:
    if requested == "auto":
        detected = detect_encoding(head)
        # Valid UTF-8 at the start only means it is not UTF-8 after all.
        candidates = [detected, "cp932"] if detected == "utf-8" else [detected]
    else:
        candidates = ["utf-8-sig" if requested == "utf-8" else requested]
    bad: int | None = None
    for codec in candidates:
        bad = _first_bad_line(_blocks(path), codec)
        if bad is None:
            # Reading through utf-8-sig drops a BOM the detection did not need to see.
            return "utf-8-sig" if codec == "utf-8" else codec
    tried = "UTF-8 or CP932 (Shift_JIS)" if requested == "auto" else requested
    raise ImportFileError(
        f"{path}: line {bad}: not {tried} text; save the file as 'CSV UTF-8', or pass --encoding"
    )


def _first_bad_line(blocks: Iterable[bytes], codec: str, *, final: bool = True) -> int | None:
    """The line holding the first byte `codec` cannot decode, or None if all decode."""
    decoder = codecs.getincrementaldecoder(codec)()
    lines_before = 0
    for block in blocks:
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            return lines_before + block[: max(0, exc.start - pending)].count(b"\n") + 1
        lines_before += block.count(b"\n")
    if final:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return lines_before + 1
    return None


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    for block in _blocks(path):
        count += block.count(b"\n")
        last = block[-1:]
    return count + (last != b"\n")


def _open_text(source: SourceFile) -> TextIO:
    try:
        # newline="": the csv module needs the raw line ends to keep quoted newlines.
        return source.path.open(encoding=source.encoding, newline="")
    except OSError as exc:
        raise ImportFileError(f"cannot read {source.path}: {exc.strerror or exc}") from None


# --- CSV ---------------------------------------------------------------------------


def _csv_records(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    with _open_text(source) as f:
        # strict: an unclosed quote is an error at its line instead of silently
        # swallowing every following row into one field.
        reader = csv.reader(f, strict=True)
        records = _csv_physical(reader)
        header: list[str] | None = None
        for line, fields in records:
            if isinstance(fields, RowError):
                if header is None:
                    raise ImportFileError(f"{source.path}: the header: {fields.reason}")
                yield line, fields
            elif header is None:
                header = _csv_header(source.path, fields)
            else:
                yield line, _csv_row(line, header, fields)
        # A file without even a header has no rows: the caller reports "no rows".


def _csv_physical(reader: Any) -> Iterator[tuple[int, list[str] | RowError]]:
    """Records with the physical line each starts on; blank ones are skipped."""
    rows = iter(reader)
    previous_end = 0
    while True:
        try:
            fields = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield previous_end + 1, RowError(previous_end + 1, "row", _csv_problem(exc))
            previous_end = reader.line_num
            continue
        # csv yields a record even for a blank line, so every record starts on the line
        # after the previous one ended.
        start, previous_end = previous_end + 1, reader.line_num
        if any(f.strip() for f in fields):
            yield start, fields


def _csv_problem(exc: csv.Error) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return 'a quoted field is never closed (a " is missing)'
    if "field larger than field limit" in message:
        return f"a field is larger than {_MB} (or a quote is never closed)"
    return f"malformed CSV: {message}"


def _csv_header(path: Path, fields: list[str]) -> list[str]:
    header = [_column_name(f) for f in fields]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        found = ", ".join(repr(h) for h in header if h)
        noun = "column" if len(missing) == 1 else "columns"
        raise ImportFileError(
            f"{path}: missing required {noun} {names} in the header (found: {found})"
        )
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise ImportFileError(f"{path}: the header names {repeated[0]!r} more than once")
    return header


def _column_name(raw: str) -> str:
    return raw.lstrip("\ufeff").strip().lower()


def _csv_row(line: int, header: list[str], fields: list[str]) -> dict[str, Any] | RowError:
    extra = fields[len(header) :]
    if any(f.strip() for f in extra):
        return RowError(
            line, "row", f"{len(fields)} fields but the header has {len(header)} (quote commas)"
        )
    record = {name: value for name, value in zip(header, fields, strict=False) if name}
    return _oversized(line, record) or record


# --- JSONL -------------------------------------------------------------------------


def _jsonl_records(source: SourceFile) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    with _open_text(source) as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            yield line, _jsonl_object(line, text)


def _jsonl_object(line: int, text: str) -> dict[str, Any] | RowError:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return RowError(line, "row", f"not valid JSON ({exc.msg} at column {exc.colno})")
    except ValueError as exc:  # an integer of more than 4,300 digits
        return RowError(line, "row", f"not usable JSON ({exc})")
    except RecursionError:
        return RowError(line, "row", "not usable JSON (nested too deeply)")
    if not isinstance(value, dict):
        return RowError(line, "row", f"expected a JSON object, got {type(value).__name__}")
    record = {_column_name(str(k)): v for k, v in value.items()}
    # A lone surrogate can only come from a \uD8xx escape: the text itself was decoded.
    if "\\u" in text and (bad := _surrogate_field(record)):
        return RowError(line, bad, "not valid Unicode (a lone surrogate such as \\ud83d)")
    return _oversized(line, record) or record


def _surrogate_field(record: dict[str, Any]) -> str | None:
    """The first column (or "row", for a key) holding a lone surrogate, which no database
    or terminal can take."""
    for name, value in record.items():
        if _has_surrogate(name):
            return "row"
        if _has_surrogate(value):
            return name
    return None


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    return False


# --- both formats ------------------------------------------------------------------

_MB = f"1 MB ({MAX_FIELD_BYTES:,} bytes)"


def _oversized(line: int, record: dict[str, Any]) -> RowError | None:
    """The first field over MAX_FIELD_BYTES, as the row's error: CSV and JSONL apply the
    same rule to the same value."""
    for name, value in record.items():
        size = _size(value)
        if size > MAX_FIELD_BYTES:
            return RowError(line, name or "row", f"{size:,} bytes, larger than {_MB}")
    return None


def _size(value: Any) -> int:
    """UTF-8 bytes of a field's text (a JSON list's items together); cheap for the usual
    short field, since a character is at most 4 bytes."""
    if isinstance(value, str):
        if len(value) * 4 <= MAX_FIELD_BYTES:
            return len(value)
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, list | dict):
        return len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return len(str(value)) if isinstance(value, int | float) else 0


# --- fields ------------------------------------------------------------------------


def _text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected text, got {_json_type(value)}")
    return str(value).strip()


def _required_text(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("empty")
    return text


def _asin(value: Any) -> str:
    asin = _required_text(value)
    if len(asin) > MAX_ASIN_LENGTH:
        raise ValueError(f"longer than {MAX_ASIN_LENGTH} characters ({_shown(asin)})")
    if not _ASIN.fullmatch(asin):
        raise ValueError(
            f"not printable ASCII ({_shown(asin)}): no spaces, control or non-ASCII characters"
        )
    return asin


def _price(value: Any) -> int:
    text = _text(value)
    if not text:
        raise ValueError("empty")
    number = _integer(text, allow_yen=True)
    if number is None or number <= 0:
        raise ValueError(f"not a positive integer ({_shown(text)})")
    return _in_range(number, text)


def _stock(value: Any) -> int:
    text = _text(value)
    if not text:
        return 0
    number = _integer(text, allow_yen=False)
    if number is None:
        raise ValueError(f"not an integer ({_shown(text)})")
    if number < 0:
        raise ValueError(f"negative ({_shown(text)})")
    return _in_range(number, text)


def _integer(text: str, *, allow_yen: bool) -> int | None:
    """An integer as Excel shows one: full-width digits, "1,980", and with `allow_yen`
    a leading ¥/￥. Anything else (decimals, words) is None."""
    normal = text if text.isascii() else unicodedata.normalize("NFKC", text).strip()
    sign = -1 if normal.startswith("-") else 1
    normal = normal.removeprefix("-").strip()
    if allow_yen:
        for yen in _YEN_SIGNS:
            normal = normal.removeprefix(yen).strip()
    if _PLAIN_INT.fullmatch(normal) or _GROUPED_INT.fullmatch(normal):
        return sign * int(normal.replace(",", ""))
    return None


def _in_range(number: int, text: str) -> int:
    if number > MAX_INT:
        raise ValueError(f"too large ({_shown(text)})")
    return number


def _images(value: Any) -> tuple[str, ...]:
    urls = _image_list(value)
    if len(urls) > defaults.MAX_IMAGES:
        raise ValueError(f"{len(urls)} images, at most {defaults.MAX_IMAGES} are allowed")
    if not _all_web_urls(urls):
        bad = next(url for url in urls if not _is_web_url(url))
        raise ValueError(f"malformed URL ({_shown(bad)}): needs http:// or https:// and a host")
    return tuple(urls)


def _image_list(value: Any) -> list[str]:
    """A JSON list, or URLs separated by | (how one Excel cell holds several)."""
    if isinstance(value, list):
        items: list[Any] = value
    else:
        text = _text(value)
        if not text.startswith("["):
            return [part.strip() for part in text.split("|") if part.strip()]
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("starts with [ but is not a JSON list") from None
        if not isinstance(items, list):
            raise ValueError("starts with [ but is not a JSON list")
    if not all(isinstance(item, str) for item in items):
        raise ValueError("a JSON list of images must hold only URL strings")
    return [item.strip() for item in items if item.strip()]


def _all_web_urls(urls: list[str]) -> bool:
    joined = "\n".join(urls)
    # A newline inside one URL would pass the joined match as two URLs.
    if not urls or joined.count("\n") != len(urls) - 1:
        return all(_is_web_url(url) for url in urls)
    return _WEB_URL_LINES.fullmatch(joined) is not None


def _is_web_url(url: str) -> bool:
    return _WEB_URL.fullmatch(url) is not None


def _shown(value: str) -> str:
    if len(value) > _SHOWN_MAX:
        value = value[: _SHOWN_MAX - 1] + "…"
    return repr(value)


def _json_type(value: Any) -> str:
    names = {bool: "true/false", dict: "an object", list: "a list"}
    return names.get(type(value), type(value).__name__)


# In ProductRow's field order, after the line.
_CHECKS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("asin", _asin),
    ("title", _required_text),
    ("description", _text),
    ("price", _price),
    ("stock", _stock),
    ("images", _images),
    ("brand", _text),
    ("category", _text),
    # Optional, unlike title: a product may have no English text yet.
    ("title_en", _text),
    ("description_en", _text),
)
