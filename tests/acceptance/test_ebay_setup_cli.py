"""`account setup --platform ebay` as an operator runs it (issue 16): the real CLI with a
config file, against `upload-scheduler sandbox serve --platform ebay` as a process of its
own, sellers logged in with the real `token login --platform ebay --code <address>`.

And the issue's set-up test end to end: a seller without a merchant location, two items
queued for it, the real daemon pauses the account (config, naming `account setup`)
instead of failing the items; `account setup` fixes it, `account resume`, and both items
list, one published offer each."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.demo_helpers import (
    cli,
    kill_leftovers,
    ok,
    output,
    spawn,
    spawned_output,
    stored_tokens,
    wait_for,
)
from tests.acceptance.ebay_run_helpers import (
    EbaySandbox,
    ebay_sandbox,
    login,
    queue_rows,
    write_ebay_config,
    write_ebay_products,
)

pytestmark = pytest.mark.acceptance

NO_LOCATION = "seller_noloc"
EXTRA = "seller_extra"
NOT_OPTED = "seller_new"
READY = "seller_ready"
NO_TOKEN = "seller_nologin"
SELLERS = (NO_LOCATION, EXTRA, NOT_OPTED, READY, NO_TOKEN)
LOCATION = {"country": "JP", "postal_code": "100-0001"}
PAUSE_WAIT = 60.0
LIST_WAIT = 60.0


def _location_section(workdir: Path) -> None:
    """[platforms.ebay.location] after the file's last section, as an operator adds it."""
    config = workdir / "upload-scheduler.toml"
    lines = [f"{key} = {json.dumps(value)}" for key, value in LOCATION.items()]
    text = config.read_text(encoding="utf-8") + "\n[platforms.ebay.location]\n"
    config.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture()
def seller_sandbox(tmp_path: Path) -> Iterator[tuple[Path, EbaySandbox]]:
    options = (
        *("--sellers-without-location", NO_LOCATION),
        *("--sellers-with-extra-policies", EXTRA),
        *("--sellers-not-opted-in", NOT_OPTED),
    )
    with ebay_sandbox(tmp_path / "sandbox", *options) as sandbox:
        workdir = tmp_path / "work"
        workdir.mkdir()
        write_ebay_config(workdir, sandbox.url, SELLERS)
        _location_section(workdir)
        for seller in SELLERS:
            if seller != NO_TOKEN:
                login(workdir, sandbox, seller)
        yield workdir, sandbox


def setup(workdir: Path, seller: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli(workdir, "account", "setup", "--platform", "ebay", "--account", seller, *extra)


def location_posts(sandbox: EbaySandbox, seller: str) -> list[dict[str, Any]]:
    return [
        c
        for c in sandbox.calls()
        if c["method"] == "POST" and "/location/" in c["path"] and c["seller"] == seller
    ]


def test_setup_creates_the_missing_location_and_a_second_run_changes_nothing(
    seller_sandbox: tuple[Path, EbaySandbox],
) -> None:
    workdir, sandbox = seller_sandbox
    assert sandbox.state()["sellers"][NO_LOCATION]["locations"] == []
    first = setup(workdir, NO_LOCATION)
    assert first.returncode == 0, output(first)
    assert "created merchant location JP_LOCATION (JP, 100-0001)" in first.stdout
    assert f"ebay/{NO_LOCATION} is ready to list." in first.stdout
    assert sandbox.state()["sellers"][NO_LOCATION]["locations"] == ["JP_LOCATION"]
    assert len(location_posts(sandbox, NO_LOCATION)) == 1

    second = setup(workdir, NO_LOCATION, "--json")
    assert second.returncode == 0, output(second)
    shown = json.loads(second.stdout)
    assert shown["ready"] is True and shown["changed"] is False and shown["error"] is None
    assert {s["status"] for s in shown["steps"]} == {"in_place"}
    assert shown["paused"] is None and shown["hint"] is None
    assert len(location_posts(sandbox, NO_LOCATION)) == 1  # nothing sent the second time

    third = setup(workdir, NO_LOCATION)
    assert third.returncode == 0, output(third)
    assert f"Everything was already in place: ebay/{NO_LOCATION} can list." in third.stdout


def test_several_policies_are_listed_and_the_key_named(
    seller_sandbox: tuple[Path, EbaySandbox],
) -> None:
    workdir, sandbox = seller_sandbox
    result = setup(workdir, EXTRA)
    assert result.returncode == 1, output(result)
    policies = sandbox.state()["sellers"][EXTRA]["policies"]["fulfillment"]
    assert len(policies) == 2
    line = next(line for line in result.stdout.splitlines() if "fulfillment policy" in line)
    assert "MISSING" in line and "set fulfillment_policy_id" in line
    for policy in policies:
        assert f"{policy['policyId']} ({policy['name']})" in line
    assert f"ebay/{EXTRA} cannot list yet" in result.stdout

    shown = json.loads(setup(workdir, EXTRA, "--json").stdout)
    step = next(s for s in shown["steps"] if s["step"] == "fulfillment_policy")
    assert step["status"] == "missing" and step["key"] == "fulfillment_policy_id"
    assert step["choices"] == [{"id": p["policyId"], "name": p["name"]} for p in policies]


def test_a_seller_not_opted_in_is_opted_in(seller_sandbox: tuple[Path, EbaySandbox]) -> None:
    workdir, sandbox = seller_sandbox
    assert sandbox.state()["sellers"][NOT_OPTED]["opted_in"] is False
    result = setup(workdir, NOT_OPTED)
    assert result.returncode == 0, output(result)
    line = next(line for line in result.stdout.splitlines() if "business policies" in line)
    assert line.split()[0] == "done"
    assert sandbox.state()["sellers"][NOT_OPTED]["opted_in"] is True


def test_no_token_other_platforms_and_no_secret_in_output(
    seller_sandbox: tuple[Path, EbaySandbox],
) -> None:
    workdir, _ = seller_sandbox
    outputs = []
    missing = setup(workdir, NO_TOKEN)
    assert missing.returncode == 1, output(missing)
    hint = f"upload-scheduler token login --platform ebay --account {NO_TOKEN}"
    assert hint in missing.stderr
    outputs.append(missing.stdout + missing.stderr)

    unknown = cli(workdir, "account", "setup", "--platform", "nosuch", "--account", READY)
    assert unknown.returncode == 2, output(unknown)
    assert "unknown platform 'nosuch'" in unknown.stderr

    ready = setup(workdir, READY)
    assert ready.returncode == 0, output(ready)
    outputs += [ready.stdout + ready.stderr, setup(workdir, READY, "--json").stdout]
    help_text = ok(cli(workdir, "account", "setup", "--help"))
    assert "merchant_location_key" in help_text and "account resume" in help_text
    text = "\n".join(outputs)
    for secret in (*stored_tokens(workdir), "sandbox-secret"):
        assert secret not in text


def test_nothing_to_set_up_for_base(tmp_path: Path) -> None:
    (tmp_path / "upload-scheduler.toml").write_text(
        'database = "sqlite:///q.db"\n\n[accounts]\nbase = ["shop_a"]\n', encoding="utf-8"
    )
    result = cli(tmp_path, "account", "setup", "--platform", "base", "--account", "shop_a")
    assert result.returncode == 0, output(result)
    assert "nothing to set up for base" in result.stdout
    shown = json.loads(
        ok(cli(tmp_path, "account", "setup", "--platform", "base", "--account", "shop_a", "--json"))
    )
    assert shown["ready"] is True and shown["steps"] == []
    assert shown["message"] == "nothing to set up for base"


# ---------------------------------------------------------------------- the set-up test


def _pause(workdir: Path, seller: str) -> dict[str, Any] | None:
    shown = json.loads(ok(cli(workdir, "account", "list", "--platform", "ebay", "--json")))
    account = next(a for a in shown["accounts"] if a["account_id"] == seller)
    return account if account["paused"] else None


def test_a_seller_without_location_pauses_then_setup_and_resume_list_the_items(
    tmp_path: Path,
) -> None:
    seller = "seller_a"
    with ebay_sandbox(tmp_path / "sandbox", "--sellers-without-location", seller) as sandbox:
        workdir = tmp_path / "work"
        workdir.mkdir()
        write_ebay_config(
            workdir,
            sandbox.url,
            [seller],
            platform={"min_interval_seconds": 0.2, "retry_delay_seconds": 0.2},
        )
        _location_section(workdir)
        login(workdir, sandbox, seller)
        write_ebay_products(workdir / "products.csv", {"B0SETUP001": 1500, "B0SETUP002": 3000})
        ok(cli(workdir, "products", "import", "products.csv", "--platform", "ebay"))
        queued = cli(
            workdir,
            *("add-to-queue", "--platform", "ebay", "--account-id", seller, "--limit", "2"),
        )
        assert queued.returncode == 0, output(queued)
        assert len(queue_rows(workdir)) == 2
        daemon = spawn(workdir, "daemon", "daemon", "--platform", "ebay", "--account", seller)
        try:
            paused = wait_for(
                lambda: daemon.poll() is not None or _pause(workdir, seller),
                PAUSE_WAIT,
                "the account's config pause",
            )
            assert isinstance(paused, dict), spawned_output(workdir, "daemon")
            reason = paused["pause_reason"]
            assert reason.startswith("config:"), reason
            assert f"account setup --platform ebay --account {seller}" in reason
            text = ok(cli(workdir, "account", "list", "--platform", "ebay"))
            assert "account setup" in text
            # Paused, not failed: no item spent its attempts on the missing location.
            assert {r["status"] for r in queue_rows(workdir)} <= {"pending", "uploading"}
            assert not any(o["status"] == "PUBLISHED" for o in _offers(sandbox, seller))

            fixed = setup(workdir, seller)
            assert fixed.returncode == 0, output(fixed)
            assert "created merchant location JP_LOCATION" in fixed.stdout
            resume_hint = f"upload-scheduler account resume --platform ebay --account {seller}"
            assert resume_hint in fixed.stdout
            assert _pause(workdir, seller) is not None  # the set-up does not lift it

            ok(cli(workdir, "account", "resume", "--platform", "ebay", "--account", seller))
            wait_for(
                lambda: (
                    daemon.poll() is not None
                    or {r["status"] for r in queue_rows(workdir)} == {"success"}
                ),
                LIST_WAIT,
                "both items listed",
            )
            rows = queue_rows(workdir)
            assert {r["status"] for r in rows} == {"success"}, spawned_output(workdir, "daemon")
        finally:
            if daemon.poll() is None:
                daemon.terminate()
                try:
                    daemon.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            kill_leftovers(workdir)
        offers = _offers(sandbox, seller)
        by_sku: dict[str, list[dict[str, Any]]] = {}
        for offer in offers:
            by_sku.setdefault(offer["sku"], []).append(offer)
        assert sorted(by_sku) == ["B0SETUP001", "B0SETUP002"]
        for sku, found in by_sku.items():
            assert len(found) == 1, (sku, found)
            assert found[0]["status"] == "PUBLISHED" and found[0]["listingId"]
            assert found[0]["publishes"] == 1
        ids = {r["asin"]: r["platform_item_id"] for r in rows}
        assert ids == {o["sku"]: o["listingId"] for o in offers}


def _offers(sandbox: EbaySandbox, seller: str) -> list[dict[str, Any]]:
    sellers = sandbox.state()["sellers"]
    return list(sellers[seller]["offers"]) if seller in sellers else []


def test_an_opt_in_still_processing_says_to_come_back_later(tmp_path: Path) -> None:
    seller = "seller_late"
    options = ("--sellers-not-opted-in", seller, "--opt-in-delay", "3600")
    with ebay_sandbox(tmp_path / "sandbox", *options) as sandbox:
        workdir = tmp_path / "work"
        workdir.mkdir()
        write_ebay_config(workdir, sandbox.url, [seller])
        _location_section(workdir)
        login(workdir, sandbox, seller)
        for _ in range(2):  # the repeated opt-in (409) is fine: still processing
            result = setup(workdir, seller)
            assert result.returncode == 1, output(result)
            processing = "eBay is processing the opt-in (up to 24 h); run this again later"
            assert processing in result.stdout
            assert f"ebay/{seller} cannot list yet" in result.stdout
        shown = json.loads(setup(workdir, seller, "--json").stdout)
        assert shown["steps"][0]["status"] == "processing"
        assert [s["status"] for s in shown["steps"][2:]] == ["waiting"] * 3
