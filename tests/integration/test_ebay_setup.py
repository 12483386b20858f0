"""`account setup` for eBay (issue 16) against the eBay sandbox in-process: the opt-in,
the merchant location and the three policies, what it reports, and that a second run
changes nothing. The tokens come from the token manager's code exchange, the path a
login takes; the sandbox and the token manager share a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from upload_scheduler.clock import FakeClock
from upload_scheduler.config import Settings, settings_from_dict
from upload_scheduler.platforms.ebay.client import EbayClient
from upload_scheduler.platforms.ebay.sandbox import EbaySandboxOptions, EbaySandboxServer
from upload_scheduler.platforms.ebay.sandbox.login import consent_code
from upload_scheduler.platforms.ebay.setup import SetupReport, Status, setup_account
from upload_scheduler.platforms.ebay.tokens import token_manager
from upload_scheduler.store.database import open_database

CLIENT_ID = "setup-app-PRD-0001"
SECRET = "sandbox-secret"
RUNAME = "Setup_App-SetupApp-PRD-runame"
SELLER = "seller_a"
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def ebay_config(database_url: str, url: str, **platform: Any) -> dict[str, Any]:
    location = platform.pop("location", {"country": "JP", "postal_code": "100-0001"})
    return {
        "database": database_url,
        "accounts": {"ebay": [SELLER]},
        "platforms": {
            "ebay": {
                "api_base_url": url,
                "auth_base_url": url,
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "redirect_uri": RUNAME,
                "location": location,
                **platform,
            }
        },
    }


@dataclass
class SetupEnv:
    sandbox: EbaySandboxServer
    settings: Settings
    engine: Engine
    clock: FakeClock

    def run(self) -> SetupReport:
        return setup_account(self.settings, self.engine, self.clock, SELLER)

    def seller(self) -> dict[str, Any]:
        state: dict[str, Any] = self.sandbox.state.snapshot(SELLER)["sellers"][SELLER]
        return state

    def writes(self) -> list[tuple[str, str]]:
        return [
            (c["method"], c["path"])
            for c in self.sandbox.calls()
            if c["method"] != "GET" and c["path"].startswith("/sell/")
        ]


@contextmanager
def setup_env(
    tmp_path: Path, database_url: str, *, login: bool = True, config: Any = None, **options: Any
) -> Iterator[SetupEnv]:
    clock = FakeClock(START)
    sandbox = EbaySandboxServer(EbaySandboxOptions(**options), clock=clock).start()
    engine = None
    try:
        raw = ebay_config(database_url, sandbox.url, **(config or {}))
        settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
        engine = open_database(settings.database_url)
        if login:
            client = EbayClient()
            try:
                manager = token_manager(settings, engine, clock, client)
                code = consent_code(sandbox.url, CLIENT_ID, RUNAME, SELLER)
                manager.login_with_code(SELLER, code)
            finally:
                client.close()
        yield SetupEnv(sandbox, settings, engine, clock)
    finally:
        if engine is not None:
            engine.dispose()
        sandbox.stop()


def statuses(report: SetupReport) -> dict[str, Status]:
    return {step.name: step.status for step in report.steps}


def test_a_ready_seller_needs_nothing_and_the_report_shows_the_policies(
    tmp_path: Path, database_url: str
) -> None:
    with setup_env(tmp_path, database_url) as env:
        report = env.run()
        assert report.ready and not report.changed and report.error is None
        assert set(statuses(report).values()) == {Status.IN_PLACE}
        ids = {p["policyId"] for kind in env.seller()["policies"].values() for p in kind}
        used = {s.value for s in report.steps if s.name.endswith("_policy")}
        assert used <= ids and len(used) == 3
        assert env.writes() == []


def test_a_seller_without_location_gets_it_and_a_second_run_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    with setup_env(tmp_path, database_url, sellers_without_location=frozenset({SELLER})) as env:
        assert env.seller()["locations"] == []
        first = env.run()
        assert first.ready and first.changed
        assert statuses(first)["location"] is Status.DONE
        location = next(s for s in first.steps if s.name == "location")
        assert "JP_LOCATION" in location.message and "100-0001" in location.message
        assert env.seller()["locations"] == ["JP_LOCATION"]
        stored = env.sandbox.state.sellers[SELLER].locations["JP_LOCATION"]
        assert stored["location"]["address"] == {"country": "JP", "postalCode": "100-0001"}
        assert stored["merchantLocationStatus"] == "ENABLED"
        assert stored["locationTypes"] == ["WAREHOUSE"]
        writes = env.writes()
        assert writes == [("POST", "/sell/inventory/v1/location/JP_LOCATION")]

        second = env.run()
        assert second.ready and not second.changed
        assert set(statuses(second).values()) == {Status.IN_PLACE}
        assert env.writes() == writes  # nothing more was sent


def test_a_location_by_city_and_state(tmp_path: Path, database_url: str) -> None:
    config = {
        "merchant_location_key": "TOKYO_1",
        "location": {"country": "JP", "city": "Chiyoda-ku", "state_or_province": "Tokyo"},
    }
    with setup_env(
        tmp_path, database_url, config=config, sellers_without_location=frozenset({SELLER})
    ) as env:
        report = env.run()
        assert report.ready, report.to_json()
        address = env.sandbox.state.sellers[SELLER].locations["TOKYO_1"]["location"]["address"]
        assert address == {"country": "JP", "city": "Chiyoda-ku", "stateOrProvince": "Tokyo"}


def test_a_location_section_without_postal_code_nor_city_names_the_keys(
    tmp_path: Path, database_url: str
) -> None:
    config = {"location": {"country": "JP", "city": "Chiyoda-ku"}}
    with setup_env(
        tmp_path, database_url, config=config, sellers_without_location=frozenset({SELLER})
    ) as env:
        report = env.run()
        assert not report.ready
        step = next(s for s in report.steps if s.name == "location")
        assert step.status is Status.MISSING
        assert "postal_code" in step.message and "state_or_province" in step.message
        assert "[platforms.ebay.location]" in step.message
        assert env.writes() == []
        # The other steps were still checked.
        assert statuses(report)["fulfillment_policy"] is Status.IN_PLACE


def test_a_seller_not_opted_in_is_opted_in(tmp_path: Path, database_url: str) -> None:
    with setup_env(tmp_path, database_url, sellers_not_opted_in=frozenset({SELLER})) as env:
        assert not env.seller()["opted_in"]
        first = env.run()
        assert first.ready, first.to_json()
        assert statuses(first)["business_policies"] is Status.DONE
        assert env.seller()["opted_in"]
        second = env.run()
        assert second.ready and not second.changed


def test_an_opt_in_being_processed_says_so_and_a_later_run_finishes(
    tmp_path: Path, database_url: str
) -> None:
    with setup_env(
        tmp_path,
        database_url,
        sellers_not_opted_in=frozenset({SELLER}),
        opt_in_delay=3600.0,
    ) as env:
        first = env.run()
        assert not first.ready
        opt_in = first.steps[0]
        assert opt_in.name == "business_policies" and opt_in.status is Status.PROCESSING
        assert "eBay is processing the opt-in (up to 24 h); run this again later" in opt_in.message
        assert {s.status for s in first.steps if s.name.endswith("_policy")} == {Status.WAITING}
        opt_ins = [w for w in env.writes() if w[1].endswith("/opt_in")]
        assert len(opt_ins) == 1

        again = env.run()  # still processing: the repeated opt-in (409) is fine
        assert not again.ready and again.steps[0].status is Status.PROCESSING

        env.clock.advance(7200)
        later = env.run()
        assert later.ready, later.to_json()
        assert statuses(later)["business_policies"] is Status.IN_PLACE


def test_extra_policies_are_listed_and_the_key_named(tmp_path: Path, database_url: str) -> None:
    with setup_env(tmp_path, database_url, sellers_with_extra_policies=frozenset({SELLER})) as env:
        report = env.run()
        assert not report.ready
        step = next(s for s in report.steps if s.name == "fulfillment_policy")
        assert step.status is Status.MISSING and step.key == "fulfillment_policy_id"
        assert "fulfillment_policy_id" in step.message
        fulfillment = env.seller()["policies"]["fulfillment"]
        assert [c.policy_id for c in step.choices] == [p["policyId"] for p in fulfillment]
        assert [c.name for c in step.choices] == [p["name"] for p in fulfillment]
        for policy in fulfillment:
            assert policy["policyId"] in step.message and policy["name"] in step.message
        assert statuses(report)["payment_policy"] is Status.IN_PLACE

        chosen = fulfillment[1]["policyId"]
        config = {"fulfillment_policy_id": chosen}
        raw = ebay_config(env.settings.database_url, env.sandbox.url, **config)
        settings = settings_from_dict(raw, tmp_path / "upload-scheduler.toml")
        fixed = setup_account(settings, env.engine, env.clock, SELLER)
        assert fixed.ready, fixed.to_json()
        step = next(s for s in fixed.steps if s.name == "fulfillment_policy")
        assert step.value == chosen


def test_a_configured_policy_id_that_does_not_exist(tmp_path: Path, database_url: str) -> None:
    config = {"return_policy_id": "999"}
    with setup_env(tmp_path, database_url, config=config) as env:
        report = env.run()
        assert not report.ready
        step = next(s for s in report.steps if s.name == "return_policy")
        assert step.status is Status.MISSING and step.key == "return_policy_id"
        assert "return_policy_id = 999" in step.message
        only = env.seller()["policies"]["return"][0]["policyId"]
        assert only in step.message


def test_no_token_gives_the_login_hint(tmp_path: Path, database_url: str) -> None:
    with setup_env(tmp_path, database_url, login=False) as env:
        report = env.run()
        assert not report.ready and report.steps == []
        assert report.error is not None
        assert f"upload-scheduler token login --platform ebay --account {SELLER}" in report.error
        assert env.sandbox.calls() == []


def test_an_expired_access_token_is_refreshed_and_no_secret_is_reported(
    tmp_path: Path, database_url: str
) -> None:
    with setup_env(tmp_path, database_url) as env:
        httpx.post(f"{env.sandbox.url}/_sandbox/expire_tokens", data={"seller": SELLER})
        report = env.run()
        assert report.ready, report.to_json()
        grants = [c.get("grant_type") for c in env.sandbox.calls()]
        assert grants.count("refresh_token") == 1
        text = repr(report.to_json())
        assert SECRET not in text


def test_the_report_json_shape(tmp_path: Path, database_url: str) -> None:
    with setup_env(tmp_path, database_url) as env:
        shown = env.run().to_json()
        assert set(shown) == {"platform", "account", "ready", "changed", "error", "steps"}
        assert [s["step"] for s in shown["steps"]] == [
            "business_policies",
            "location",
            "fulfillment_policy",
            "payment_policy",
            "return_policy",
        ]
        assert {s["status"] for s in shown["steps"]} == {"in_place"}
