"""Yahoo!'s images: re-encoding to a JPEG under the upload limit (PNG, GIF with
transparency, a JPEG over the limit; small limits keep it fast), unreadable bytes and
decompression bombs refused; downloads from a real HTTP server on 127.0.0.1: success,
404 and 410 refused, 500 and timeouts transient, the size cap, redirects."""

from __future__ import annotations

import io
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from PIL import Image

from upload_scheduler.platforms.yahoo.images import (
    MAX_REDIRECTS,
    ImageRefused,
    ImageUnavailable,
    download_image,
    prepare_image,
    shown_url,
)

URL = "https://img.example/item.png"


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Random pixels: they compress badly, so a small image makes a big file."""
    bands = len(mode)
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * bands))


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# -------------------------------------------------------------------------- prepare


def test_a_jpeg_within_the_limit_is_sent_as_it_is() -> None:
    data = encoded(noise((40, 30)), "JPEG", quality=90)
    assert prepare_image(data, URL, max_upload_bytes=len(data)) is data


def test_a_png_becomes_a_jpeg() -> None:
    data = encoded(Image.new("RGB", (50, 40), (10, 200, 30)), "PNG")
    out = opened(prepare_image(data, URL))
    assert (out.format, out.mode, out.size) == ("JPEG", "RGB", (50, 40))


def test_a_jpeg_over_the_limit_is_made_smaller_until_it_fits() -> None:
    data = encoded(noise((200, 200)), "JPEG", quality=95)
    limit = 8_000
    assert len(data) > limit
    out = prepare_image(data, URL, max_upload_bytes=limit)
    assert len(out) <= limit
    image = opened(out)
    assert image.format == "JPEG" and image.width < 200  # scaled, as quality was not enough


def test_lower_quality_comes_before_scaling_down() -> None:
    source = noise((120, 120))
    at_90 = len(encoded(source, "JPEG", quality=90, optimize=True))
    at_60 = len(encoded(source, "JPEG", quality=60, optimize=True))
    png = encoded(source, "PNG")
    out = opened(prepare_image(png, URL, max_upload_bytes=(at_90 + at_60) // 2))
    assert out.size == (120, 120)


def test_a_gif_with_transparency_is_flattened_on_white() -> None:
    image = Image.new("P", (20, 20), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 10, 20))  # left half red, right half index 0: transparent
    data = encoded(image, "GIF", transparency=0)
    out = opened(prepare_image(data, "https://img.example/a.gif", max_upload_bytes=50_000))
    assert (out.format, out.mode) == ("JPEG", "RGB")
    red, white = out.getpixel((3, 10)), out.getpixel((16, 10))
    assert isinstance(red, tuple) and isinstance(white, tuple)
    assert red[0] > 200 and red[1] < 60 and red[2] < 60
    assert min(white) > 240


def test_rgba_png_is_flattened_on_white() -> None:
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    out = opened(prepare_image(encoded(image, "PNG"), URL))
    pixel = out.getpixel((5, 5))
    assert isinstance(pixel, tuple) and min(pixel) > 240


@pytest.mark.parametrize(
    "data", [b"", b"not an image", b"\xff\xd8\xff\xe0" + b"\x00" * 40, b"\x89PNG\r\n\x1a\n"]
)
def test_bytes_pillow_cannot_read_are_refused(data: bytes) -> None:
    with pytest.raises(ImageRefused) as caught:
        prepare_image(data, "https://user:secret@img.example/x.jpg")
    assert str(caught.value) == "cannot read the image at https://img.example/x.jpg"
    assert caught.value.url == "https://img.example/x.jpg"


def test_a_truncated_png_is_refused() -> None:
    data = encoded(noise((64, 64)), "PNG")
    with pytest.raises(ImageRefused, match="cannot read"):
        prepare_image(data[: len(data) // 2], URL)


@pytest.mark.parametrize("pixels", [999, 1500, 5000])
def test_a_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch, pixels: int) -> None:
    """Over Pillow's limit (between it and twice it, where Pillow only warns, too)."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 999)
    data = encoded(Image.new("RGB", (pixels, 1)), "PNG")
    if pixels <= 999:
        assert opened(prepare_image(data, URL)).size == (pixels, 1)
        return
    with pytest.raises(ImageRefused, match="pixels"):
        prepare_image(data, URL)


# ------------------------------------------------------------------------- download


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    hold: bool = False  # wait (for the test's end) before answering
    drip: bool = False  # send the body one byte at a time, slowly
    declare_length: bool = True  # False: no Content-Length, the body ends at the close


class Server:
    """A real HTTP server on 127.0.0.1, in a thread, with fixed answers per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                route = server.routes.get(self.path, Route(404, b"not found"))
                if route.hold:
                    server.released.wait(10)
                self.send_response(route.status)
                for name, value in route.headers:
                    self.send_header(name, value)
                if route.declare_length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if route.drip:
                    for byte in route.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        if server.released.wait(0.05):
                            return
                    return
                self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.thread.start()
    yield running
    running.released.set()
    running.httpd.shutdown()
    running.httpd.server_close()
    running.thread.join(5)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as opened_client:  # no proxy from the environment
        yield opened_client


Fetch = Callable[..., bytes]


@pytest.fixture
def fetch(client: httpx.Client, server: Server) -> Fetch:
    def get(path: str, *, max_bytes: int = 1_000_000, timeout: float = 5.0) -> bytes:
        return download_image(client, server.url(path), max_bytes=max_bytes, timeout=timeout)

    return get


def test_download_success(server: Server, fetch: Fetch) -> None:
    image = encoded(noise((16, 16)), "PNG")
    server.routes["/a.png"] = Route(body=image, headers=(("Content-Type", "image/png"),))
    assert fetch("/a.png") == image
    assert opened(prepare_image(fetch("/a.png"), "/a.png")).format == "JPEG"


@pytest.mark.parametrize("status", [404, 410, 403])
def test_a_missing_image_is_refused_naming_the_url(
    server: Server, fetch: Fetch, status: int
) -> None:
    server.routes["/gone.jpg"] = Route(status)
    with pytest.raises(ImageRefused) as caught:
        fetch("/gone.jpg")
    assert f"HTTP {status}" in str(caught.value)
    assert server.url("/gone.jpg") in str(caught.value)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_is_transient(server: Server, fetch: Fetch, status: int) -> None:
    server.routes["/busy.jpg"] = Route(status, b"oops")
    with pytest.raises(ImageUnavailable) as caught:
        fetch("/busy.jpg")
    assert server.url("/busy.jpg") in str(caught.value)


def test_too_large_is_refused_declared_or_streamed(server: Server, fetch: Fetch) -> None:
    server.routes["/big.jpg"] = Route(body=b"x" * 5000)
    with pytest.raises(ImageRefused, match="too large to download"):
        fetch("/big.jpg", max_bytes=4999)
    assert len(fetch("/big.jpg", max_bytes=5000)) == 5000
    # No Content-Length (the body ends when the connection closes): the read stops at
    # the cap.
    server.routes["/stream.jpg"] = Route(body=b"y" * 50_000, declare_length=False)
    assert len(fetch("/stream.jpg", max_bytes=50_000)) == 50_000
    with pytest.raises(ImageRefused, match="too large to download"):
        fetch("/stream.jpg", max_bytes=100)


def test_redirects_are_followed_to_http(server: Server, fetch: Fetch) -> None:
    server.routes["/a.jpg"] = Route(body=b"image")
    server.routes["/old.jpg"] = Route(302, headers=(("Location", "/a.jpg"),))
    server.routes["/older.jpg"] = Route(301, headers=(("Location", server.url("/old.jpg")),))
    assert fetch("/older.jpg") == b"image"


@pytest.mark.parametrize(
    "location", ["ftp://127.0.0.1/a.jpg", "file:///etc/passwd", "data:image/png;base64,AA"]
)
def test_a_redirect_to_another_scheme_is_refused(
    server: Server, fetch: Fetch, location: str
) -> None:
    server.routes["/r.jpg"] = Route(302, headers=(("Location", location),))
    with pytest.raises(ImageRefused, match="redirects to a URL that is not a valid http or https"):
        fetch("/r.jpg")


def test_a_redirect_loop_is_refused(server: Server, fetch: Fetch) -> None:
    server.routes["/loop.jpg"] = Route(302, headers=(("Location", "/loop.jpg"),))
    with pytest.raises(ImageRefused, match=f"more than {MAX_REDIRECTS}"):
        fetch("/loop.jpg")


def test_a_silent_server_times_out_as_transient(server: Server, fetch: Fetch) -> None:
    server.routes["/slow.jpg"] = Route(body=b"late", hold=True)
    with pytest.raises(ImageUnavailable, match="timed out"):
        fetch("/slow.jpg", timeout=0.2)


def test_a_trickle_is_stopped_by_the_whole_timeout(server: Server, fetch: Fetch) -> None:
    """Each byte comes before the read timeout, but the whole takes longer."""
    server.routes["/drip.jpg"] = Route(body=b"z" * 100, drip=True)
    with pytest.raises(ImageUnavailable, match="timed out"):
        fetch("/drip.jpg", timeout=0.3)


def test_a_refused_connection_is_transient(client: httpx.Client) -> None:
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ImageUnavailable, match="could not download"):
        download_image(client, f"http://127.0.0.1:{port}/a.jpg", max_bytes=100, timeout=2.0)


@pytest.mark.parametrize("url", ["ftp://img.example/a.jpg", "file:///a.jpg", "img.example/a"])
def test_only_http_urls_are_fetched(client: httpx.Client, url: str) -> None:
    with pytest.raises(ImageRefused, match="not http or https"):
        download_image(client, url, max_bytes=100, timeout=1.0)


def test_urls_are_shown_without_credentials() -> None:
    assert (
        shown_url("https://u:p@img.example:8443/a.jpg?x=1") == "https://img.example:8443/a.jpg?x=1"
    )
    assert len(shown_url("https://img.example/" + "a" * 1000)) == 300
