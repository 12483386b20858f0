"""The dashboard's words: both languages for every key, every reason `queue explain`
can give headed in both, and the page's language chosen as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from upload_scheduler import limits
from upload_scheduler.web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"
# The codes operations.explain gives besides the limits' own.
EXPLAIN_CODES = ("scheduled", "login", "no_daemon", "ahead", "due", "not_pending", "not_configured")
LIMIT_CODES = (
    limits.PAUSED,
    limits.RESTART,
    limits.HOURS,
    limits.SPACING,
    limits.HOUR_BUDGET,
    limits.DAY_BUDGET,
    limits.APPLICATION_BUDGET,
    limits.DAILY_QUOTA,
)


def test_every_word_has_both_languages() -> None:
    for table in (i18n.MESSAGES, i18n.STATUS_WORDS, i18n.REASON_WORDS):
        for key, (english, japanese) in table.items():
            assert english.strip() and japanese.strip(), key
            names = set(re.findall(r"\{(\w+)\}", english))
            assert names == set(re.findall(r"\{(\w+)\}", japanese)), key


def test_every_reason_explain_gives_is_headed_in_japanese() -> None:
    t = i18n.translator("ja")
    for code in (*EXPLAIN_CODES, *LIMIT_CODES):
        assert code in i18n.REASON_WORDS, code
        assert t(f"reason_{code}") == i18n.REASON_WORDS[code][1]


def test_every_key_the_templates_use_exists() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(
            re.findall(r"""\bt\(\s*["']([a-z_]+)["']\s*[,)]""", template.read_text("utf-8"))
        )
    missing = {k for k in used if k not in i18n.MESSAGES and k not in i18n.STATUS_WORDS}
    assert not missing
    assert len(used) > 40  # the search itself works


@pytest.mark.parametrize(
    ("configured", "query", "header", "expected"),
    [
        ("", None, None, "en"),
        ("", None, "ja,en;q=0.5", "ja"),
        ("", None, "en-US,en;q=0.9,ja;q=0.8", "en"),
        ("", None, "fr-FR, ja;q=0.3", "ja"),
        ("", None, "ja;q=0.2, en;q=0.7", "en"),
        ("", None, "ja;q=abc", "en"),
        ("ja", None, "en", "ja"),
        ("ja", "en", "ja", "en"),
        ("", "xx", "ja", "ja"),
    ],
)
def test_the_language_is_the_address_then_the_config_then_the_browser(
    configured: str, query: str | None, header: str | None, expected: str
) -> None:
    assert i18n.choose(configured, query, header) == expected


def test_markup_placed_by_a_template_is_kept_and_other_values_escaped() -> None:
    from markupsafe import Markup

    t = i18n.translator("en")
    shown = t("today_figures", success=Markup("<b>1</b>"), failed="<i>", left=3)
    assert shown == "<b>1</b> done · &lt;i&gt; failed · 3 left"


def test_every_attention_kind_and_bulk_action_has_its_words() -> None:
    from upload_scheduler.web.actions import BULK
    from upload_scheduler.web.figures import ATTENTION_KINDS

    for kind in ATTENTION_KINDS:
        assert f"att_{kind}" in i18n.MESSAGES, kind
    for action in BULK:
        assert f"confirm_{action}" in i18n.MESSAGES and f"done_{action}" in i18n.MESSAGES
