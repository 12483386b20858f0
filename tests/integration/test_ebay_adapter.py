"""The eBay adapter against the in-process eBay sandbox: a full listing, pacing before the
PUT, 25002's offer reused, recovery after a lost answer at each of the three calls (one
offer and one publish in the end), token refresh (proactive and on a 401), a dead refresh
token, a seller's missing set-up, the application's spent budget, delete and exists, wrong
URLs, content rules, and no secret in any log line or message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.ebay_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    ITEM,
    OFFER,
    SELLER_A,
    SELLER_B,
    EbayEnv,
    ebay_config,
    ebay_env,
    product,
)
from upload_scheduler.config import settings_from_dict
from upload_scheduler.platforms.ebay import create_platform
from upload_scheduler.platforms.errors import (
    AuthExpired,
    Misconfigured,
    Permanent,
    PlatformError,
    Throttled,
    Transient,
)
from upload_scheduler.platforms.interface import (
    DeleteResult,
    ExistingItem,
    Platform,
    PlatformContext,
    UploadResult,
)
from upload_scheduler.platforms.registry import platform_factory
from upload_scheduler.platforms.token_health import assess
from upload_scheduler.platforms.token_store import TokenStore

ASIN = "B0EBAY0001"
PUT = f"{ITEM}{ASIN}"
POLICY_LOOKUPS = 3  # the first listing of an account finds its three policies


def paths(env: EbayEnv) -> list[tuple[str, str]]:
    return [(c["method"], c["path"]) for c in env.calls()]


def listing_paths(offer_id: str) -> list[tuple[str, str]]:
    return [("PUT", PUT), ("POST", OFFER), ("POST", f"{OFFER}/{offer_id}/publish")]


def recover(env: EbayEnv, asin: str = ASIN) -> str:
    """What the worker does after a Transient(maybe_created): look the item up, and list
    it again only when no published offer is found. The listing id either way."""
    found = env.platform.find_existing(asin, env.account())
    if found is not None:
        return found.platform_item_id
    return env.platform.upload(product(asin), env.account()).platform_item_id


# ---------------------------------------------------------------------------- listing


def test_a_listing_is_put_item_post_offer_publish(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        assert isinstance(env.platform, Platform)
        # The first listing of the adapter's life looks the three policies up as well.
        assert env.platform.calls_for(product()) == 3 + POLICY_LOOKUPS
        result = env.platform.upload(product(), env.account())
        [offer] = env.offers()
        assert result == UploadResult(
            platform_item_id=offer["listingId"],
            calls=POLICY_LOOKUPS + 3,
            images_added=2,
            offer_id=offer["offerId"],
        )
        assert paths(env)[POLICY_LOOKUPS:] == listing_paths(offer["offerId"])
        assert offer["status"] == "PUBLISHED" and offer["publishes"] == 1
        assert (offer["price"], offer["currency"]) == ("13.20", "USD")  # 1980 / 150
        assert (offer["categoryId"], offer["availableQuantity"]) == ("9355", 4)
        item = env.seller()["inventory_items"][ASIN]
        assert item["product"]["title"] == f"Acme tin robot {ASIN}"
        assert item["product"]["aspects"] == {"Brand": ["Acme"]}
        assert item["product"]["imageUrls"] == list(product().images)

        # The policies are known now: the next listing is the three calls alone.
        assert env.platform.calls_for(product("B0EBAY0002")) == 3
        second = env.platform.upload(product("B0EBAY0002"), env.account())
        assert second.calls == 3


def test_pace_runs_right_before_the_put_after_the_token_and_policies(
    tmp_path: Path, database_url: str
) -> None:
    with ebay_env(tmp_path, database_url, token_lifetime=20) as env:
        env.clock.advance(15)  # the token is due: refreshed before pace, not after
        seen: list[int] = []
        env.platform.upload(product(), env.account(), pace=lambda: seen.append(len(env.calls("/"))))
        calls = env.calls("/")
        [at] = seen
        assert [c["path"] for c in calls[:at]] == [
            "/identity/v1/oauth2/token",
            "/sell/account/v1/fulfillment_policy",
            "/sell/account/v1/payment_policy",
            "/sell/account/v1/return_policy",
        ]
        assert (calls[at]["method"], calls[at]["path"]) == ("PUT", PUT)


def test_an_item_already_listed_needs_nothing(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        result = env.platform.upload(product(), env.account(), platform_item_id="110551000077")
        assert result == UploadResult(platform_item_id="110551000077", calls=0)
        assert env.calls() == []


def test_entry_point_builds_the_adapter(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url, login=()) as env:
        factory = platform_factory("ebay")
        assert factory is create_platform
        adapter = factory(PlatformContext("ebay", env.settings, env.engine, env.clock))
        try:
            assert adapter.name == "ebay" and isinstance(adapter, Platform)
        finally:
            adapter.close()


# ---------------------------------------------------------------------------- one offer, ever


def test_offer_entity_already_exists_reuses_the_offer(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        env.sandbox.faults.inject("server_error", path=f"{OFFER}/*", method="POST")
        with pytest.raises(Transient) as caught:
            env.platform.upload(product(), env.account())
        assert caught.value.maybe_created
        [offer] = env.offers()
        assert offer["status"] == "UNPUBLISHED"
        assert env.platform.find_existing(ASIN, env.account()) is None

        before = len(env.calls())
        result = env.platform.upload(product(), env.account())
        again = env.calls()[before:]
        assert [(c["method"], c["path"], c["status"]) for c in again] == [
            ("PUT", PUT, 204),
            ("POST", OFFER, 400),  # 25002, with the existing offer's id
            ("POST", f"{OFFER}/{offer['offerId']}/publish", 200),
        ]
        assert again[1]["outcome"] == "25002"
        assert result.offer_id == offer["offerId"] and result.calls == 3
        assert env.publishes() == {offer["offerId"]: 1}
        [listed] = env.offers()
        assert listed["listingId"] == result.platform_item_id


@pytest.mark.parametrize("step", ["item", "offer", "publish"])
def test_a_lost_answer_at_any_step_ends_with_one_offer_published_once(
    tmp_path: Path, database_url: str, step: str
) -> None:
    where = {
        "item": ("PUT", f"{ITEM}*"),
        "offer": ("POST", OFFER),
        "publish": ("POST", f"{OFFER}/*"),
    }
    method, path = where[step]
    with ebay_env(tmp_path, database_url) as env:
        env.sandbox.faults.inject("lost_response", path=path, method=method)
        with pytest.raises(Transient) as caught:
            env.platform.upload(product(), env.account())
        assert caught.value.maybe_created  # the worker looks it up before listing again
        listing_id = recover(env)
        [offer] = env.offers()
        assert offer["status"] == "PUBLISHED" and offer["listingId"] == listing_id
        assert env.publishes() == {offer["offerId"]: 1}
        assert [c["fault"] for c in env.calls() if c["fault"]] == ["lost_response"]
        found = env.platform.find_existing(ASIN, env.account())
        assert found == ExistingItem(listing_id, images=24, calls=1, offer_id=offer["offerId"])


def test_lookup_without_offers_answers_none_also_for_an_empty_list(
    tmp_path: Path, database_url: str
) -> None:
    with ebay_env(tmp_path, database_url, empty_offer_list=True) as env:
        assert env.platform.find_existing("B0NOTHERE1", env.account()) is None
    with ebay_env(tmp_path, database_url) as env:
        assert env.platform.find_existing("B0NOTHERE1", env.account()) is None
        assert [c["outcome"] for c in env.calls()] == ["25713"]


def test_a_lookup_sees_another_accounts_offers_not(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url, login=(SELLER_A, SELLER_B)) as env:
        env.platform.upload(product(), env.account(SELLER_A))
        assert env.platform.find_existing(ASIN, env.account(SELLER_B)) is None


# ---------------------------------------------------------------------------- faults


@pytest.mark.parametrize("fault", ["server_error", "concurrency", "reset", "timeout"])
def test_faults_on_the_put_are_transient_and_may_have_created(
    tmp_path: Path, database_url: str, fault: str
) -> None:
    with ebay_env(tmp_path, database_url, read_timeout=0.3, timeout_hang=1.0) as env:
        env.sandbox.faults.inject(fault, path=f"{ITEM}*", method="PUT")
        with pytest.raises(Transient) as caught:
            env.platform.upload(product(), env.account())
        assert caught.value.maybe_created
        assert env.seller()["inventory_items"] == {}  # these faults act before anything


def test_a_server_error_on_a_lookup_is_transient_without_creation(
    tmp_path: Path, database_url: str
) -> None:
    with ebay_env(tmp_path, database_url) as env:
        env.sandbox.faults.inject("server_error", path=OFFER, method="GET")
        with pytest.raises(Transient) as caught:
            env.platform.find_existing(ASIN, env.account())
        assert not caught.value.maybe_created
        assert "25001" in caught.value.message


def test_validation_errors_are_permanent_with_ebays_id(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url, platform={"category_id": "not-a-number"}) as env:
        with pytest.raises(Permanent) as caught:
            env.platform.upload(product(), env.account())
        assert "eBay refused the publish: 25005 Invalid category ID." in caught.value.message
        # The failure says what it cost: the lookups, the PUT, the offer and the publish.
        assert caught.value.calls == POLICY_LOOKUPS + 3 == len(env.calls())


def test_the_spent_application_budget_is_throttled(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        env.control("spend_budget", client_id=CLIENT_ID)
        with pytest.raises(Throttled) as caught:
            env.platform.upload(product(), env.account())
        assert "2001" in caught.value.message and caught.value.retry_after is None
        assert caught.value.calls == 1  # the refused call counts
        assert env.offers() == [] and env.seller()["inventory_items"] == {}


# ---------------------------------------------------------------------------- set-up


def test_a_seller_without_the_location_pauses_the_account(
    tmp_path: Path, database_url: str
) -> None:
    with ebay_env(tmp_path, database_url, sellers_without_location=frozenset({SELLER_A})) as env:
        with pytest.raises(Misconfigured) as caught:
            env.platform.upload(product(), env.account())
        message = caught.value.message
        assert "25012" in message
        assert f"upload-scheduler account setup --platform ebay --account {SELLER_A}" in message


def test_several_policies_name_the_key_to_set(tmp_path: Path, database_url: str) -> None:
    extra = frozenset({SELLER_A})
    with ebay_env(tmp_path, database_url, sellers_with_extra_policies=extra) as env:
        with pytest.raises(Misconfigured) as caught:
            env.platform.upload(product(), env.account())
        assert "fulfillment_policy_id" in caught.value.message
        assert "account setup --platform ebay" in caught.value.message
        assert env.calls("/sell/inventory/") == []


def test_configured_policies_are_used_without_lookups(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        ids = env.sandbox.state.seller(SELLER_A).policies
        configured = {
            f"{kind}_policy_id": ids[kind][0].policy_id for kind in ("fulfillment", "payment")
        }
        settings = settings_from_dict(
            ebay_config(env.settings.database_url, env.sandbox.url, **configured),
            env.settings.source,
        )
        adapter = env.adapter(settings)
        try:
            assert adapter.calls_for(product()) == 3 + 1
            result = adapter.upload(product(), env.account())
        finally:
            adapter.close()
        assert result.calls == 1 + 3  # the return policy alone is looked up
        assert adapter.calls_for(product()) == 3
        assert [p for _, p in paths(env)][:1] == ["/sell/account/v1/return_policy"]


def test_not_opted_in_pauses_the_account(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url, sellers_not_opted_in=frozenset({SELLER_A})) as env:
        with pytest.raises(Misconfigured) as caught:
            env.platform.upload(product(), env.account())
        assert "20403" in caught.value.message and "account setup" in caught.value.message


# ---------------------------------------------------------------------------- tokens


def test_a_refused_token_is_refreshed_once_and_the_call_retried(
    tmp_path: Path, database_url: str
) -> None:
    with ebay_env(tmp_path, database_url, token_lifetime=20) as env:
        store = TokenStore(env.engine, "ebay")
        before = store.get(SELLER_A)
        assert before is not None and before.refresh_expires_at is not None
        assert env.control("expire_tokens", seller=SELLER_A)["expired"] == 1
        result = env.platform.upload(product(), env.account())
        put = [(c["method"], c["path"], c["status"]) for c in env.calls("/")]
        assert put[:3] == [
            ("GET", "/sell/account/v1/fulfillment_policy", 401),
            ("POST", "/identity/v1/oauth2/token", 200),
            ("GET", "/sell/account/v1/fulfillment_policy", 200),
        ]
        assert result.calls == 3 + POLICY_LOOKUPS + 1  # the refused call counted too
        after = store.get(SELLER_A)
        assert after is not None and after.access_token != before.access_token
        # eBay's refresh returns an access token only: the refresh token and its end stay.
        assert after.refresh_token == before.refresh_token
        assert after.refresh_expires_at == before.refresh_expires_at
        assert after.expires_at == env.clock.now() + timedelta(seconds=20)


def test_a_token_about_to_end_is_refreshed_before_use(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url, token_lifetime=20) as env:
        env.platform.upload(product(), env.account())
        env.clock.advance(12)  # 8 s left of 20: due (less than half its life)
        env.platform.upload(product("B0EBAY0002"), env.account())
        statuses = [(c["path"], c["status"]) for c in env.calls("/")]
        assert ("/identity/v1/oauth2/token", 200) in statuses
        assert all(status != 401 for _, status in statuses)


def test_a_dead_refresh_token_asks_for_a_login(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        env.control("revoke_refresh_tokens", seller=SELLER_A)
        env.control("expire_tokens", seller=SELLER_A)
        with pytest.raises(AuthExpired) as caught:
            env.platform.upload(product(), env.account())
        assert "invalid_grant" in caught.value.message
        assert f"token login --platform ebay --account {SELLER_A}" in caught.value.message
        assert env.offers() == []
        record = TokenStore(env.engine, "ebay").get(SELLER_A)
        assert assess(record, env.clock.now()).login_required
        # A new login lifts it.
        env.login(SELLER_A)
        assert env.platform.upload(product(), env.account()).platform_item_id


def test_no_tokens_stored_asks_for_a_login(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url, login=()) as env:
        with pytest.raises(AuthExpired, match="token login --platform ebay"):
            env.platform.upload(product(), env.account())
        assert env.calls("/") == []


# ---------------------------------------------------------------------------- delete, exists


def test_delete_ends_the_listing_and_an_item_gone_is_done(
    tmp_path: Path, database_url: str
) -> None:
    with ebay_env(tmp_path, database_url) as env:
        listed = env.platform.upload(product(), env.account())
        item_id = listed.platform_item_id
        assert env.platform.exists(item_id, env.account(), asin=ASIN) is True
        assert env.platform.delete(item_id, env.account(), asin=ASIN) == DeleteResult(1)
        assert env.offers() == [] and env.seller()["inventory_items"] == {}
        assert env.platform.exists(item_id, env.account(), asin=ASIN) is False
        again = env.platform.delete(item_id, env.account(), asin=ASIN)
        assert again == DeleteResult(1, already_gone=True)
        with pytest.raises(Permanent, match="no ASIN"):
            env.platform.delete(item_id, env.account())


def test_a_lost_delete_answer_may_have_acted(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        listed = env.platform.upload(product(), env.account())
        env.sandbox.faults.inject("lost_response", method="DELETE")
        with pytest.raises(Transient) as caught:
            env.platform.delete(listed.platform_item_id, env.account(), asin=ASIN)
        assert caught.value.maybe_created
        assert not env.platform.exists(listed.platform_item_id, env.account(), asin=ASIN)


# ---------------------------------------------------------------------------- wrong set-up


def test_a_wrong_api_url_is_misconfigured(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        wrong = settings_from_dict(
            ebay_config(env.settings.database_url, f"{env.sandbox.url}/wrong"),
            env.settings.source,
        )
        adapter = env.adapter(wrong)
        try:
            with pytest.raises(Misconfigured) as caught:
                adapter.upload(product(), env.account())
        finally:
            adapter.close()
        assert "check api_base_url (answered 404 for /wrong/sell/account/v1/" in (
            caught.value.message
        )


def test_a_plain_http_host_elsewhere_is_refused_at_start(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url, login=()) as env:
        raw = ebay_config(env.settings.database_url, "http://api.ebay.example")
        with pytest.raises(ValueError, match="not HTTPS"):
            env.adapter(settings_from_dict(raw, env.settings.source))


def test_content_rules_send_nothing(tmp_path: Path, database_url: str) -> None:
    with ebay_env(tmp_path, database_url) as env:
        with pytest.raises(Permanent) as caught:
            env.platform.upload(product(title_en=""), env.account())
        assert "eBay needs an English title" in caught.value.message
        assert "nothing was sent" in caught.value.message
        assert caught.value.calls == 0
        assert env.calls("/") == []


# ---------------------------------------------------------------------------- secrets


def test_no_secret_in_logs_or_messages(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []

    def attempt(call: Callable[[], object]) -> None:
        try:
            call()
        except PlatformError as exc:
            messages.append(exc.message)

    with ebay_env(tmp_path, database_url, token_lifetime=20) as env:
        account = env.account()
        attempt(lambda: env.platform.upload(product(), account))
        env.control("expire_tokens")
        attempt(lambda: env.platform.upload(product("B0EBAY0002"), account))
        env.control("revoke_refresh_tokens")
        env.control("expire_tokens")
        attempt(lambda: env.platform.upload(product("B0EBAY0003"), account))
        secrets = [CLIENT_SECRET, *env.sandbox.state.grants.issued]
    text = caplog.text + "\n".join(messages) + "".join(repr(r.args) for r in caplog.records)
    assert messages  # the last upload failed, and said why
    for secret in secrets:
        assert secret not in text
        assert secret[-24:] not in text
