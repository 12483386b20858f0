"""The dashboard's words in English and Japanese, written once in one table.

The language is `[dashboard] language` when set, else the browser's Accept-Language
(the first of ja/en it prefers), else English. `?lang=ja|en` overrides both for one
page, so a view in either language can be bookmarked and shared.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

LANGUAGES = ("en", "ja")
DEFAULT_LANGUAGE = "en"

# key: (English, Japanese). Placeholders are str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    "title": ("upload-scheduler", "upload-scheduler"),
    "nav_overview": ("Overview", "概要"),
    "nav_queue": ("Queue", "キュー"),
    "nav_schedule": ("Schedule", "スケジュール"),
    "nav_activity": ("Activity", "操作履歴"),
    "read_only_banner": ("Read only: actions are refused.", "閲覧専用: 操作はできません。"),
    "attention": ("Needs attention", "要対応"),
    "nothing_needs_attention": ("Nothing needs attention.", "対応が必要な項目はありません。"),
    "att_failed_items": ("{account}: {count} failed item(s)", "{account}: 失敗 {count} 件"),
    "att_crash_loop": (
        "{account}: daemon keeps crashing",
        "{account}: デーモンが再起動を繰り返しています",
    ),
    "att_login_ending": (
        "{account}: login ends in {count} day(s)",
        "{account}: ログイン期限まであと {count} 日",
    ),
    "att_login_required": ("{account}: login needed", "{account}: 再ログインが必要です"),
    "att_budget_spent": ("{account}: API call budget spent", "{account}: API 呼び出し上限に到達"),
    "att_daily_quota_full": (
        "{account}: today's quota is full",
        "{account}: 本日の出品上限に到達",
    ),
    "platform": ("Platform", "プラットフォーム"),
    "account": ("Account", "アカウント"),
    "daemon": ("Daemon", "デーモン"),
    "daemon_up": ("up on {host}", "稼働中 ({host})"),
    "daemon_down": ("down", "停止"),
    "paused": ("Paused", "一時停止"),
    "paused_until": ("until {until}", "{until} まで"),
    "paused_until_resumed": ("until resumed", "再開まで"),
    "not_paused": ("working", "稼働"),
    "today": ("Today", "本日"),
    "today_figures": (
        "{success} done · {failed} failed · {left} left",
        "成功 {success} · 失敗 {failed} · 残り {left}",
    ),
    "hour_calls": ("Calls this hour", "今時間の呼び出し"),
    "day_calls": ("Calls today", "本日の呼び出し"),
    "shared_by_application": ("shared by application", "アプリ共有"),
    "next_slot": ("Next slot", "次の枠"),
    "login_ends": ("Login ends", "ログイン期限"),
    "none": ("-", "-"),
    "actions": ("Actions", "操作"),
    "pause": ("Pause", "一時停止"),
    "resume": ("Resume", "再開"),
    "reason": ("Reason", "理由"),
    "until": (
        "Until (2h, 1d, or 2026-01-06 09:00; empty: until resumed)",
        "期限 (2h, 1d, 2026-01-06 09:00。空欄: 再開まで)",
    ),
    "queue_items": ("Queue", "キュー"),
    "status": ("Status", "状態"),
    "priority": ("Priority", "優先度"),
    "scheduled": ("Scheduled", "予定時刻"),
    "attempts": ("Attempts", "試行回数"),
    "error": ("Error", "エラー"),
    "last_error": ("Last error", "直近のエラー"),
    "no_history": ("No change of status yet.", "状態の変化はまだありません。"),
    "zone_note": ("times in {zone}", "時刻は {zone}"),
    "search": ("ASIN or title", "ASIN またはタイトル"),
    "from": ("From", "開始"),
    "to": ("To", "終了"),
    "any": ("any", "すべて"),
    "filter": ("Filter", "絞り込み"),
    "clear": ("Clear", "クリア"),
    "matching": ("{count} matching", "該当 {count} 件"),
    "newer": ("« Newer", "« 新しい"),
    "older": ("Older »", "古い »"),
    "no_items": ("No items match.", "該当する項目はありません。"),
    "retry_all_failed": ("Retry all failed matching…", "該当する失敗をすべて再試行…"),
    "cancel_all_pending": ("Cancel all pending matching…", "該当する待機中をすべてキャンセル…"),
    "confirm_retry_all": (
        "Retry {count} failed item(s) matching this filter?",
        "この条件に該当する失敗 {count} 件を再試行しますか?",
    ),
    "confirm_cancel_all": (
        "Cancel {count} pending item(s) matching this filter?",
        "この条件に該当する待機中 {count} 件をキャンセルしますか?",
    ),
    "confirm": ("Confirm", "実行"),
    "back": ("Back", "戻る"),
    "done_retry_all": ("{count} item(s) retried.", "{count} 件を再試行しました。"),
    "done_cancel_all": ("{count} item(s) cancelled.", "{count} 件をキャンセルしました。"),
    "done_retry": ("Item retried.", "再試行しました。"),
    "done_cancel": ("Item cancelled.", "キャンセルしました。"),
    "done_pause": ("Account paused.", "一時停止しました。"),
    "done_resume": ("Account resumed.", "再開しました。"),
    "done_nothing": (
        "Nothing changed: the item is no longer in that state.",
        "変更なし: 状態が変わっています。",
    ),
    "item": ("Item {id}", "項目 {id}"),
    "product": ("Product", "商品"),
    "title_col": ("Title", "タイトル"),
    "price": ("Price (yen)", "価格 (円)"),
    "stock": ("Stock", "在庫"),
    "images": ("Images", "画像"),
    "platform_item_id": ("Platform's id", "プラットフォーム ID"),
    "offer_id": ("Offer id", "オファー ID"),
    "listing_status": ("Listing", "出品状態"),
    "created": ("Created", "作成"),
    "updated": ("Updated", "更新"),
    "processed": ("Ended", "完了"),
    "kind": ("Kind", "種類"),
    "history": ("History", "履歴"),
    "when": ("When", "日時"),
    "change": ("Change", "変化"),
    "why_not_uploading": ("Why is this item not uploading now?", "なぜ今アップロードされないか"),
    "retry": ("Retry", "再試行"),
    "cancel": ("Cancel", "キャンセル"),
    "schedule_title": ("Slots today and tomorrow", "本日と明日の枠"),
    "business_hours": ("business hours {start}:00–{end}:00", "営業時間 {start}:00–{end}:00"),
    "planned": ("{count} planned", "予定 {count} 件"),
    "daily_limit": ("daily limit {limit}", "1日上限 {limit}"),
    "activity_title": ("Activity", "操作履歴"),
    "who": ("Who", "実行者"),
    "what": ("What", "操作"),
    "target": ("On", "対象"),
    "items_count": ("Items", "件数"),
    "source": ("Source", "経路"),
    "detail": ("Detail", "詳細"),
    "no_activity": ("No actions yet.", "操作はまだありません。"),
    "not_found": ("Not found.", "見つかりません。"),
    "bad_request": ("Bad request: {why}", "不正な入力: {why}"),
    "capped": ("{cap}+", "{cap}+"),
    "language": ("日本語", "English"),
    "metrics": ("Metrics", "メトリクス"),
}

# Why an item waits (operations.explain's codes): a heading in the page's language; the
# explanation's own sentence, in English, follows it. Looked up as `reason_<code>`.
REASON_WORDS: dict[str, tuple[str, str]] = {
    "scheduled": ("Scheduled for later", "予定時刻前"),
    "restart_spacing": ("Waiting after a restart", "再起動後の待機"),
    "business_hours": ("Outside business hours", "営業時間外"),
    "spacing": ("Waiting for spacing", "間隔待ち"),
    "hour_budget": ("This hour's call budget is spent", "今時間の呼び出し上限"),
    "day_budget": ("Today's call budget is spent", "本日の呼び出し上限"),
    "application_budget": ("The application's day budget is spent", "アプリの本日の呼び出し上限"),
    "daily_quota": ("The daily quota is full", "本日の出品上限"),
    "paused": ("Account paused", "アカウント一時停止中"),
    "login": ("Login needed", "再ログインが必要"),
    "no_daemon": ("No daemon running", "デーモン未起動"),
    "ahead": ("Items ahead of it", "先行する項目あり"),
    "due": ("Due now", "実行待ち"),
    "not_pending": ("Not pending", "待機中ではありません"),
    "not_configured": ("Account not configured", "未設定のアカウント"),
}

# Statuses and actions shown as words, by their stored names.
STATUS_WORDS: dict[str, tuple[str, str]] = {
    "pending": ("pending", "待機中"),
    "uploading": ("uploading", "アップロード中"),
    "success": ("success", "成功"),
    "failed": ("failed", "失敗"),
    "cancelled": ("cancelled", "キャンセル"),
}


def choose(configured: str, query: str | None, accept_language: str | None) -> str:
    """The page's language: `?lang=`, then the config, then the browser, then English."""
    if query in LANGUAGES:
        return str(query)
    if configured in LANGUAGES:
        return configured
    return _from_header(accept_language or "")


def _from_header(header: str) -> str:
    """The language of ours the browser ranks highest (q values honoured)."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        if weight > best_q:
            best, best_q = primary, weight
    return best


def translator(language: str) -> Callable[..., str]:
    """`t(key, **values)` in `language`; an unknown key shows as itself (a bug to see)."""
    index = LANGUAGES.index(language) if language in LANGUAGES else 0

    def t(key: str, **values: object) -> str:
        if key.startswith("reason_"):
            pair = REASON_WORDS.get(key.removeprefix("reason_"))
        else:
            pair = MESSAGES.get(key) or STATUS_WORDS.get(key)
        if pair is None:
            return key
        if any(isinstance(v, Markup) for v in values.values()):
            # Markup placed by a template: kept as it is, every other value escaped.
            return Markup(pair[index]).format(**values)
        return pair[index].format(**values) if values else pair[index]

    return t
