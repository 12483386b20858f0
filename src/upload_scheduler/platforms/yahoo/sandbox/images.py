"""The image origin on the sandbox's host: the product images the lister downloads
before it uploads them to Yahoo! (which takes files, not URLs). Each is made from its
name, so every run serves the same bytes, and cached.

- `/images/NAME.jpg`, `.gif`: a small image of one colour (from the name's hash);
- `/images/NAME.png`: a PNG, which the lister must re-encode as JPEG;
- `/images/big/NAME.jpg`: a JPEG of noise over 2 MB, which it must shrink;
- `/images/broken/NAME.jpg`: bytes that are no image;
- `/images/missing/…` and anything else: 404.

Never counted in the API's limits, never recorded, faulted only by an injected fault
whose path names it.
"""

from __future__ import annotations

import hashlib
import io
import random
import threading

from PIL import Image

ROOT = "/images/"
SMALL_SIZE = (240, 240)
BIG_SIDE = 2000
BIG_MIN_BYTES = 2_100_000  # over 2 MB read either way (10^6 or 2^20)
FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".gif": "GIF"}
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif"}


class ImageOrigin:
    def __init__(self) -> None:
        self._cache: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self.served = 0

    def get(self, path: str) -> tuple[bytes, str] | None:
        """(bytes, media type) for a path under /images/, or None for a 404."""
        with self._lock:
            if path not in self._cache:
                made = _make(path.removeprefix(ROOT))
                if made is None:
                    return None
                self._cache[path] = made
            self.served += 1
            return self._cache[path]


def _make(name: str) -> tuple[bytes, str] | None:
    folder, _, file_name = name.rpartition("/")
    stem, dot, ext = file_name.rpartition(".")
    kind = FORMATS.get(f"{dot}{ext}".lower())
    if not stem or kind is None or folder not in ("", "big", "broken"):
        return None
    if folder == "broken":
        return b"<html>this is not an image: " + name.encode() + b"</html>\n", MEDIA_TYPES[kind]
    seed = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    image = _noise(seed) if folder == "big" else _plain(seed)
    out = io.BytesIO()
    image.save(out, kind, **({"quality": 95} if kind == "JPEG" else {}))
    data = out.getvalue()
    if folder == "big" and len(data) <= BIG_MIN_BYTES:
        raise RuntimeError(f"the big image came out at {len(data)} bytes")
    return data, MEDIA_TYPES[kind]


def _plain(seed: int) -> Image.Image:
    colour = (seed & 0xFF, (seed >> 8) & 0xFF, (seed >> 16) & 0xFF)
    return Image.new("RGB", SMALL_SIZE, colour)


def _noise(seed: int) -> Image.Image:
    """Random pixels: JPEG cannot compress them, so the file stays large."""
    pixels = random.Random(seed).randbytes(BIG_SIDE * BIG_SIDE * 3)
    return Image.frombytes("RGB", (BIG_SIDE, BIG_SIDE), pixels)
