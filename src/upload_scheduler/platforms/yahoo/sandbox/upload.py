"""uploadItemImage's body: one multipart part named `file`, its file name linking it
to an item (`CODE.jpg` main, `CODE_1.jpg` … `CODE_20.jpg` the others), its bytes a
JPEG, GIF or PNG (told by their first bytes, whatever the name says) of at most the
sandbox's size limit. Refusals: ed-00006 too large, ed-00005 anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from upload_scheduler.platforms.yahoo.sandbox.answers import (
    BAD_IMAGE_CODE,
    TOO_LARGE_CODE,
    YahooError,
)
from upload_scheduler.platforms.yahoo.sandbox.items import IMAGE_NAME

MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    data: bytes


@dataclass(frozen=True)
class Upload:
    file_name: str
    item_code: str
    data: bytes
    format: str


def image_format(data: bytes) -> str | None:
    return next((kind for magic, kind in MAGIC if data.startswith(magic)), None)


def read_upload(content_type: str | None, body: bytes, max_bytes: int) -> Upload:
    """The image of an uploadItemImage request, or its refusal."""
    part = next((p for p in parts(content_type, body) if p.name == "file"), None)
    if part is None or not part.filename:
        raise _bad("a multipart part named file, with a file name, is required")
    match = IMAGE_NAME.fullmatch(part.filename)
    if match is None:
        raise _bad(f"file name {part.filename!r} is not ITEMCODE.jpg or ITEMCODE_1..20.jpg")
    if len(part.data) > max_bytes:
        raise YahooError(400, f"the image is larger than {max_bytes} bytes", TOO_LARGE_CODE)
    kind = image_format(part.data)
    if kind is None:
        raise _bad("the file is not a JPEG, GIF or PNG image")
    return Upload(part.filename, match.group(1), part.data, kind)


def parts(content_type: str | None, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body (none if it is not one)."""
    header = Message()
    header["Content-Type"] = content_type or ""
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        return []
    found = []
    for chunk in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        disposition = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip():
                disposition[name.strip()] = value.strip()
        field_name = disposition.get_param("name", header="content-disposition")
        filename = disposition.get_filename()
        found.append(
            Part(
                field_name if isinstance(field_name, str) else "",
                filename,
                data.removesuffix(b"\r\n"),
            )
        )
    return found


def _bad(message: str) -> YahooError:
    return YahooError(400, message, BAD_IMAGE_CODE)
