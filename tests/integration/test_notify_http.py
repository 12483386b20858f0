"""The notifier against a real HTTP server on 127.0.0.1: the Chatwork v2 and webhook wire
formats, and what happens when the server fails (500, a dropped connection, nobody
listening, no answer): a warning without the secret, and a caller that never notices."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from tests.notify_helpers import LocalServer, local_server
from upload_scheduler.config import Settings, settings_from_dict
from upload_scheduler.notify import Notifier, NotifyKind

TOKEN = "cw-secret-token-7f3a9c"
ROOM = "4242"
HOOK_PATH = "/services/T0001/B0002/hooksecretXYZ"
ACCOUNT = "base/base_account_1"
FAST = httpx.Timeout(2.0, connect=1.0)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as local:
        yield local


@pytest.fixture
def notifiers() -> Iterator[Callable[..., Notifier]]:
    made: list[Notifier] = []

    def make(settings: Settings, **kwargs: object) -> Notifier:
        kwargs.setdefault("timeout", FAST)
        notifier = Notifier.from_settings(settings, **kwargs)  # type: ignore[arg-type]
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        assert notifier.close(timeout=5)


def chatwork_settings(tmp_path: Path) -> Settings:
    return settings_from_dict(
        {"notify": {"chatwork_token": TOKEN, "chatwork_room_id": ROOM}},
        tmp_path / "upload-scheduler.toml",
    )


def webhook_settings(tmp_path: Path, url: str) -> Settings:
    return settings_from_dict({"notify": {"webhook_url": url}}, tmp_path / "upload-scheduler.toml")


def notify_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "upload_scheduler.notify" and r.levelno >= logging.WARNING
    ]


def timed_notify(notifier: Notifier, message: str) -> float:
    started = time.monotonic()
    assert notifier.notify(NotifyKind.ITEM_FAILED, ACCOUNT, message) is True
    return time.monotonic() - started


def test_chatwork_post_follows_the_v2_protocol(
    tmp_path: Path, server: LocalServer, notifiers: Callable[..., Notifier]
) -> None:
    notifier = notifiers(chatwork_settings(tmp_path), chatwork_base_url=server.url)
    notifier.notify(NotifyKind.ACCOUNT_PAUSED, ACCOUNT, "hour_api_limit: paused until 14:00")
    (seen,) = server.wait_for_requests(1)

    assert seen.path == f"/v2/rooms/{ROOM}/messages"
    assert seen.headers["x-chatworktoken"] == TOKEN
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(seen.body.decode(), strict_parsing=True)
    assert form["self_unread"] == ["0"]
    assert form["body"] == [
        "[upload-scheduler] account paused: base/base_account_1\nhour_api_limit: paused until 14:00"
    ]
    assert set(form) == {"body", "self_unread"}
    assert notifier.close(timeout=5)
    assert notifier.stats().delivered == 1


def test_webhook_posts_slack_json_and_never_logs_its_url(
    tmp_path: Path,
    server: LocalServer,
    notifiers: Callable[..., Notifier],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx logs request URLs at INFO
    notifier = notifiers(webhook_settings(tmp_path, server.url + HOOK_PATH))
    notifier.notify(NotifyKind.DAEMON_RESTARTED, ACCOUNT, "restart 2 after exit code 1")
    (seen,) = server.wait_for_requests(1)

    assert seen.path == HOOK_PATH
    assert seen.headers["content-type"] == "application/json"
    assert json.loads(seen.body) == {
        "text": "[upload-scheduler] daemon restarted: base/base_account_1\n"
        "restart 2 after exit code 1"
    }
    assert notifier.close(timeout=5)
    assert "hooksecretXYZ" not in caplog.text
    assert any(r.name == "httpx" for r in caplog.records)  # it did log, scrubbed


def test_a_500_is_logged_without_the_token_and_the_caller_carries_on(
    tmp_path: Path,
    server: LocalServer,
    notifiers: Callable[..., Notifier],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.mode = "500"
    notifier = notifiers(chatwork_settings(tmp_path), chatwork_base_url=server.url)
    assert timed_notify(notifier, "first") < 0.1
    server.wait_for_requests(1)
    assert notifier.close(timeout=5)

    warnings = notify_warnings(caplog)
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "chatwork room 4242: HTTP 500" in warnings[0].getMessage()
    assert "boom" in warnings[0].getMessage()  # the server's words, with the token cut out
    assert TOKEN not in caplog.text
    assert notifier.stats().failed == 1


@pytest.mark.parametrize("kind", ["chatwork", "webhook"])
def test_a_dropped_connection_is_logged_without_secrets(
    kind: str,
    tmp_path: Path,
    server: LocalServer,
    notifiers: Callable[..., Notifier],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.mode = "close"
    if kind == "chatwork":
        notifier = notifiers(chatwork_settings(tmp_path), chatwork_base_url=server.url)
    else:
        notifier = notifiers(webhook_settings(tmp_path, server.url + HOOK_PATH))
    assert timed_notify(notifier, "x") < 0.1
    server.wait_for_requests(1)
    assert notifier.close(timeout=5)

    warnings = [r.getMessage() for r in notify_warnings(caplog)]
    assert len(warnings) == 1
    assert "RemoteProtocolError" in warnings[0]
    assert ("chatwork room 4242" if kind == "chatwork" else "webhook 127.0.0.1") in warnings[0]
    assert TOKEN not in caplog.text
    assert "hooksecretXYZ" not in caplog.text


def test_nobody_listening_is_logged_and_the_caller_carries_on(
    tmp_path: Path, notifiers: Callable[..., Notifier], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = notifiers(webhook_settings(tmp_path, f"http://127.0.0.1:{port}{HOOK_PATH}"))
    assert timed_notify(notifier, "x") < 0.1
    assert notifier.close(timeout=5)

    warnings = [r.getMessage() for r in notify_warnings(caplog)]
    assert len(warnings) == 1
    assert "webhook 127.0.0.1: ConnectError" in warnings[0]
    assert "hooksecretXYZ" not in caplog.text


def test_a_server_that_never_answers_slows_nobody(
    tmp_path: Path, server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.mode = "hang"
    notifier = Notifier.from_settings(
        chatwork_settings(tmp_path),
        chatwork_base_url=server.url,
        timeout=httpx.Timeout(0.5, connect=0.5),
    )
    try:
        assert timed_notify(notifier, "first") < 0.1
        server.wait_for_requests(1)
        # The thread is stuck in the request; callers are not.
        assert max(timed_notify(notifier, f"more {i}") for i in range(20)) < 0.1
        started = time.monotonic()
        assert notifier.close(timeout=0.1) is False  # bounded, not waiting for the server
        assert time.monotonic() - started < 1
    finally:
        assert notifier.close(timeout=5)  # the read timeout ends the stuck request
    assert "ReadTimeout" in caplog.text
    assert TOKEN not in caplog.text


def test_close_flushes_the_held_burst_to_the_server(
    tmp_path: Path, server: LocalServer, notifiers: Callable[..., Notifier]
) -> None:
    notifier = notifiers(chatwork_settings(tmp_path), chatwork_base_url=server.url)
    notifier.notify(NotifyKind.ITEM_FAILED, ACCOUNT, "item 1")
    server.wait_for_requests(1)
    notifier.notify(NotifyKind.ITEM_FAILED, ACCOUNT, "item 2")
    notifier.notify(NotifyKind.DAEMON_CRASHED, ACCOUNT, "unhandled error; stopping")
    assert notifier.close(timeout=5)

    seen = server.wait_for_requests(2)
    assert len(seen) == 2  # one message for the held two, not two more messages
    body = parse_qs(seen[1].body.decode())["body"][0]
    assert body.startswith("[upload-scheduler] 2 events for base/base_account_1 in the last minute")
    assert "- item failed: item 2" in body
    assert "- daemon crashed: unhandled error; stopping" in body
