"""Yahoo!'s images: it takes no image URLs, so the lister downloads each product image
and uploads it as a JPEG of at most 2 MB (PLATFORMS.md, Yahoo! section).

Two plain exceptions, which the adapter maps to its platform error classes:
- `ImageRefused`: permanent, the image itself is the problem (not http(s), a 4xx answer
  such as 404 or 410, too large to download, unreadable, a decompression bomb). Trying
  again would give the same answer; the product's data must change.
- `ImageUnavailable`: transient, the image's host is the problem right now (a network
  error, a timeout, a 5xx, 408 or 429). Trying later may work.
Both messages name the URL without any user:password part, and nothing else of the
answer, so they are safe to log and to show.

Any host is fetched, loopback included: the URLs are the seller's own product data, and
the local sandboxes and tests serve images from 127.0.0.1.
"""

from __future__ import annotations

import io
import time
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from PIL import Image, ImageOps

# Yahoo!'s limit for one image is "2 MB"; read as 2,000,000 bytes, the stricter reading,
# so an image is never refused for the other one.
MAX_UPLOAD_BYTES = 2_000_000
MAX_REDIRECTS = 5
JPEG_FORMATS = frozenset({"JPEG", "MPO"})  # MPO: a camera's JPEG with extra frames after it
QUALITIES = (90, 80, 70, 60)  # tried in turn before the image is scaled down
MIN_SCALE_STEP = 0.75  # each scaling step makes the sides at most this much of the last
URL_SHOWN_MAX = 300
_TRANSIENT_STATUSES = frozenset({408, 429})


class ImageError(Exception):
    """An image that cannot be uploaded; `url` is the URL as shown in the message."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class ImageRefused(ImageError):
    """Permanent: the image at this URL will not do (the product's data must change)."""


class ImageUnavailable(ImageError):
    """Transient: the image's host did not give it now; a later attempt may."""


def shown_url(url: str) -> str:
    """`url` fit for a message: any user:password dropped, at most 300 characters."""
    try:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            host = parts.hostname or ""
            netloc = f"{host}:{parts.port}" if parts.port else host
            url = urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass  # not parseable (a bad port): shown as given, cut below
    return url if len(url) <= URL_SHOWN_MAX else url[: URL_SHOWN_MAX - 3] + "..."


def _http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def download_image(client: httpx.Client, url: str, *, max_bytes: int, timeout: float) -> bytes:
    """The bytes at `url`, read up to `max_bytes` within `timeout` seconds in all.

    Redirects are followed by hand (at most MAX_REDIRECTS), each only to another http(s)
    URL. The client's own settings (headers, proxies, TLS) apply; its redirect setting
    does not."""
    shown = shown_url(url)
    if not _http_url(url):
        raise ImageRefused(f"the image URL is not http or https: {shown}", shown)
    try:
        httpx.URL(url)
    except httpx.InvalidURL:
        raise ImageRefused(f"the image URL cannot be fetched: {shown}", shown) from None
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            raise ImageUnavailable(f"timed out downloading the image at {shown}", shown)
        try:
            with client.stream("GET", current, timeout=left, follow_redirects=False) as answer:
                if answer.is_redirect:
                    current = urljoin(str(answer.url), answer.headers["location"])
                    if not _http_url(current):
                        raise _bad_redirect(shown)
                    continue
                _check_status(answer.status_code, shown)
                return _read(answer, shown, max_bytes=max_bytes, deadline=deadline)
        except httpx.TimeoutException:
            raise ImageUnavailable(f"timed out downloading the image at {shown}", shown) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            # The URL was checked before the first request: httpx found the answer's
            # Location unusable (it reads it even when not following it).
            raise _bad_redirect(shown) from None
        except httpx.HTTPError as exc:
            raise ImageUnavailable(
                f"could not download the image at {shown} ({type(exc).__name__})", shown
            ) from None
    raise ImageRefused(f"the image at {shown} redirects more than {MAX_REDIRECTS} times", shown)


def _bad_redirect(shown: str) -> ImageRefused:
    return ImageRefused(
        f"the image at {shown} redirects to a URL that is not a valid http or https URL", shown
    )


def _check_status(status: int, shown: str) -> None:
    """A 5xx, 408 or 429 is the host's passing trouble; any other answer but 2xx means
    the URL does not give an image (a 404 or 410 is the product's stale data)."""
    if 200 <= status < 300:
        return
    if status >= 500 or status in _TRANSIENT_STATUSES:
        raise ImageUnavailable(f"the image host answered HTTP {status} for {shown}", shown)
    raise ImageRefused(f"the image host answered HTTP {status} for {shown}", shown)


def _read(answer: httpx.Response, shown: str, *, max_bytes: int, deadline: float) -> bytes:
    """The body, streamed: stopped as soon as it passes `max_bytes` (decoded, so a
    compressed body cannot grow past it either) or the deadline."""
    too_large = ImageRefused(
        f"the image at {shown} is too large to download (over {max_bytes} bytes)", shown
    )
    declared = answer.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large  # refused before reading anything
    body = bytearray()
    for chunk in answer.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
        if time.monotonic() > deadline:
            raise ImageUnavailable(f"timed out downloading the image at {shown}", shown)
    return bytes(body)


def prepare_image(data: bytes, url: str, *, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """What is uploaded for the image downloaded from `url`: a JPEG within the limit as
    it is; anything else Pillow reads (PNG, GIF, WebP, a larger JPEG...) as a JPEG under
    the limit: its EXIF rotation applied, transparency on white, the quality lowered and
    then the image scaled down until it fits.

    Pillow's MAX_IMAGE_PIXELS guards against a small file that decodes to a huge image
    (a decompression bomb): such an image is refused, never decoded."""
    shown = shown_url(url)
    try:
        with Image.open(io.BytesIO(data)) as image:
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and image.width * image.height > limit:
                raise _bomb(shown, image.width, image.height)
            image.load()
            if image.format in JPEG_FORMATS and len(data) <= max_upload_bytes:
                return data
            flat = _flatten(ImageOps.exif_transpose(image))
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(
            f"the image at {shown} decodes to too many pixels (a decompression bomb?)", shown
        ) from None
    except Exception:
        # Pillow's decoders answer malformed data with many exception types (OSError,
        # SyntaxError, ValueError, struct.error...): all mean the same here.
        raise ImageRefused(f"cannot read the image at {shown}", shown) from None
    return _encode_within(flat, max_upload_bytes, shown)


def _bomb(shown: str, width: int, height: int) -> ImageRefused:
    return ImageRefused(
        f"the image at {shown} is {width}x{height} pixels, more than Pillow's limit "
        f"(MAX_IMAGE_PIXELS = {Image.MAX_IMAGE_PIXELS}): a decompression bomb?",
        shown,
    )


def _flatten(image: Image.Image) -> Image.Image:
    """An RGB image: a transparent one laid on white (JPEG has no transparency), so a
    transparent background shows white, not black."""
    transparent = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not transparent:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    white = Image.new("RGB", rgba.size, (255, 255, 255))
    white.paste(rgba, mask=rgba.getchannel("A"))
    return white


def _encode_within(image: Image.Image, limit: int, shown: str) -> bytes:
    """`image` as a JPEG of at most `limit` bytes: each quality of QUALITIES in turn at
    full size, then the lowest at smaller and smaller sizes (each step guessed from how
    far over the limit the last one was, and at least a quarter smaller)."""
    for quality in QUALITIES:
        encoded = _jpeg(image, quality)
        if len(encoded) <= limit:
            return encoded
    scale = 1.0
    while True:
        # The size of a JPEG goes roughly with its area: aim a little under the limit.
        scale *= min(MIN_SCALE_STEP, 0.95 * (limit / len(encoded)) ** 0.5)
        size = (int(image.width * scale), int(image.height * scale))
        if min(size) < 1:
            raise ImageRefused(
                f"the image at {shown} cannot be made a JPEG of at most {limit} bytes", shown
            )
        encoded = _jpeg(image.resize(size, Image.Resampling.LANCZOS), QUALITIES[-1])
        if len(encoded) <= limit:
            return encoded


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()
