"""The notifier's constants. They belong in `upload_scheduler.defaults` with every other
constant; they live here until that module can take them."""

from __future__ import annotations

from typing import Final

CHATWORK_API_URL: Final = "https://api.chatwork.com"

# One message per account per minute: a burst of failures (a batch hitting a banned
# word, a token expiring mid-run) becomes one message with a count, not a flood.
COALESCE_SECONDS: Final = 60.0
# A coalesced message quotes the first few events and counts the rest.
MAX_QUOTED_EVENTS: Final = 5
MAX_EVENT_CHARS: Final = 300

# Chatwork allows 10 posts per 10 seconds per room (BASE_API.md); we stay within it by
# delaying, never by dropping: a held account keeps coalescing until the room is free.
ROOM_MAX_POSTS: Final = 10
ROOM_WINDOW_SECONDS: Final = 10.0
# A 429 without a usable reset time holds all sending this long.
RATE_LIMITED_HOLD_SECONDS: Final = 10.0
MAX_RATE_LIMITED_HOLD_SECONDS: Final = 300.0

# The caller never waits for these: they bound the background thread only.
CONNECT_TIMEOUT_SECONDS: Final = 5.0
TIMEOUT_SECONDS: Final = 10.0

QUEUE_SIZE: Final = 1000
CLOSE_TIMEOUT_SECONDS: Final = 5.0
# The longest the background thread blocks before it looks at the clock again, so a
# clock that jumps (or a FakeClock in tests) is noticed.
POLL_SECONDS: Final = 1.0

LOGGER_NAME: Final = "upload_scheduler.notify"
