"""`account setup` for eBay: make a seller ready to list (PLATFORMS.md, eBay, "Before the
first listing") and say what was done, without ever asking a question.

Three steps, each run on every call so that one run reports everything still missing:
1. business policies: opted in to SELLING_POLICY_MANAGEMENT, else opted in now (a
   repeat, 409/25803, is fine); while eBay processes the opt-in (up to 24 h) the policy
   calls answer 20403 and the run says to come back later;
2. the merchant location `merchant_location_key`: created from `[platforms.ebay.location]`
   when eBay says it is missing;
3. the fulfillment, payment and return policies: a configured id must exist for the
   marketplace; an empty one is the seller's only policy of that kind (the adapter picks
   the same at upload time); several or none need the operator.

The calls go through the adapter's own machinery (`EbayClient`, the token manager, the
error table): the stored token is used and refreshed the same way; a refused one is
refreshed once. Nothing secret reaches the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import Engine

from upload_scheduler.clock import Clock
from upload_scheduler.config import AccountSettings, Settings
from upload_scheduler.platforms.ebay.adapter import INVENTORY
from upload_scheduler.platforms.ebay.client import EbayClient, EbayError
from upload_scheduler.platforms.ebay.mapping import (
    Meaning,
    map_api_error,
    map_wire_error,
    meaning,
)
from upload_scheduler.platforms.ebay.policies import POLICY_KINDS, PolicyKind, candidates
from upload_scheduler.platforms.ebay.tokens import PLATFORM, token_manager
from upload_scheduler.platforms.errors import PlatformError
from upload_scheduler.platforms.wire import WireError

ACCOUNT_API = "/sell/account/v1"
POLICY_PROGRAM = "SELLING_POLICY_MANAGEMENT"
ALREADY_EXISTS = 25803  # a repeated opt-in, or a location key that exists
NOT_ELIGIBLE = 20403  # not opted in to business policies, or the opt-in is processing
PROCESSING = "eBay is processing the opt-in (up to 24 h); run this again later"
LOCATION_SECTION = "[platforms.ebay.location]"

log = logging.getLogger(__name__)


class Status(StrEnum):
    """How a step ended. Only IN_PLACE and DONE leave the account able to list."""

    IN_PLACE = "in_place"  # it was already set up: nothing changed
    DONE = "done"  # this run set it up
    PROCESSING = "processing"  # eBay has it, but is still processing it
    WAITING = "waiting"  # cannot be checked until an earlier step is complete
    MISSING = "missing"  # the operator must act (the message says how)


@dataclass(frozen=True)
class Choice:
    """A policy the seller has, listed when the operator must pick one."""

    policy_id: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.policy_id, "name": self.name}


@dataclass(frozen=True)
class Step:
    """One part of the set-up. `key` names the setting to change when it is MISSING;
    `value` is what the account uses (a policy id, the location key)."""

    name: str  # "business_policies", "location", "fulfillment_policy", …
    status: Status
    message: str
    key: str | None = None
    value: str | None = None
    choices: tuple[Choice, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status in (Status.IN_PLACE, Status.DONE)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "status": self.status.value,
            "message": self.message,
            "key": self.key,
            "value": self.value,
            "choices": [c.to_json() for c in self.choices],
        }


@dataclass
class SetupReport:
    """What `account setup` found and did for one account. `error` is a failure that
    stopped the run (no token, eBay unreachable): the steps before it are kept."""

    platform: str
    account_id: str
    steps: list[Step] = field(default_factory=list)
    error: str | None = None

    @property
    def ready(self) -> bool:
        """The account can list: every step is in place and nothing stopped the run."""
        return self.error is None and bool(self.steps) and all(s.ok for s in self.steps)

    @property
    def changed(self) -> bool:
        return any(s.status is Status.DONE for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "account": self.account_id,
            "ready": self.ready,
            "changed": self.changed,
            "error": self.error,
            "steps": [s.to_json() for s in self.steps],
        }


class _Session:
    """The account's calls to eBay with its stored token, refreshed as the adapter does
    (before it runs out, and once when eBay refuses it). EbayError comes back for the
    steps to read; anything else is a PlatformError with a message safe to show."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        clock: Clock,
        account_id: str,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.account_id = account_id
        self.client = EbayClient(transport=transport)
        self.tokens = token_manager(settings, engine, clock, self.client, platform=PLATFORM)

    def account_settings(self) -> AccountSettings:
        return self.tokens.account_settings(self.account_id)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        settings = self.account_settings()
        url = f"{settings.api_base_url.rstrip('/')}{path}"
        token = self.tokens.access_token(self.account_id)
        for attempt in (1, 2):
            try:
                return self.client.call(
                    method,
                    url,
                    token=token,
                    content_language=settings.content_language,
                    body=body,
                    params=params,
                )
            except EbayError as err:
                if meaning(err) is not Meaning.REFRESH or attempt == 2:
                    raise
                token = self.tokens.after_rejection(self.account_id, token)
            except WireError as err:
                what = f"{PLATFORM} account {self.account_id}, account setup ({method} {path})"
                raise map_wire_error(err, what=what, acting=False) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def refused(self, err: EbayError, doing: str) -> PlatformError:
        """An answer no step expects, in the worker's words (throttled, eBay failing, a
        token that a fresh login must replace, a wrong URL)."""
        return map_api_error(
            err,
            what=f"{PLATFORM} account {self.account_id}, account setup",
            account_id=self.account_id,
            refused=doing,
        )

    def close(self) -> None:
        self.client.close()


def setup_account(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    account_id: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> SetupReport:
    """Run the three steps for the eBay account `account_id` and report them. Never
    raises for eBay's or the token's problems: they become `report.error`."""
    report = SetupReport(PLATFORM, account_id)
    session = _Session(settings, engine, clock, account_id, transport=transport)
    try:
        account = session.account_settings()
        session.tokens.client_secret(account_id)  # a refresh would need it: say so now
        session.tokens.access_token(account_id)  # no token: the login hint, before any step
        report.steps.append(_business_policies(session))
        report.steps.append(_location(session, account))
        policies = _policies(session, account)
        if policies is None:  # 20403: eBay has not processed the opt-in yet
            report.steps[0] = Step(report.steps[0].name, Status.PROCESSING, PROCESSING)
            policies = [_waiting(kind) for kind in POLICY_KINDS]
        report.steps.extend(policies)
    except EbayError as err:  # only a step's own call can raise it past the step
        report.error = session.refused(err, "the set-up call").message
    except PlatformError as exc:
        report.error = exc.message
    finally:
        session.close()
    return report


# ---------------------------------------------------------------------- the steps


def _business_policies(session: _Session) -> Step:
    """Opted in to SELLING_POLICY_MANAGEMENT, or opt in now. Whether eBay has finished
    processing the opt-in shows only in the policy calls (20403), read afterwards."""
    name = "business_policies"
    answer = session.call("GET", f"{ACCOUNT_API}/program/get_opted_in_programs")
    programs = {
        str(p.get("programType"))
        for p in answer.get("programs") or ()
        if isinstance(p, dict) and p.get("programType")
    }
    if POLICY_PROGRAM in programs:
        return Step(name, Status.IN_PLACE, "opted in to business policies")
    try:
        session.call("POST", f"{ACCOUNT_API}/program/opt_in", body={"programType": POLICY_PROGRAM})
    except EbayError as err:
        if err.status == 409 or ALREADY_EXISTS in err.error_ids:
            log.info("%s: the opt-in to business policies was already requested", name)
            return Step(name, Status.IN_PLACE, "the opt-in to business policies was requested")
        raise session.refused(err, "the opt-in to business policies") from None
    return Step(name, Status.DONE, "opted in to business policies")


def _location(session: _Session, account: AccountSettings) -> Step:
    """The merchant location offers name: created from [platforms.ebay.location] when
    eBay does not have it."""
    name = "location"
    key = account.merchant_location_key
    if not key:
        return Step(
            name,
            Status.MISSING,
            "merchant_location_key is empty; set it in [platforms.ebay] (e.g. JP_LOCATION)",
            key="merchant_location_key",
        )
    path = f"{INVENTORY}/location/{quote(key, safe='')}"
    try:
        session.call("GET", path)
        return Step(name, Status.IN_PLACE, f"merchant location {key} exists", value=key)
    except EbayError as err:
        if err.status != 404 or not err.platform_body:
            raise session.refused(err, f"the lookup of location {key}") from None
    address, missing = location_address(account)
    if address is None:
        return Step(
            name,
            Status.MISSING,
            f"the seller has no merchant location {key}, and {LOCATION_SECTION} cannot make "
            f"one: set {missing}",
            key=missing,
            value=key,
        )
    body = {
        "location": {"address": address},
        "name": key,
        "merchantLocationStatus": "ENABLED",
        "locationTypes": ["WAREHOUSE"],
    }
    try:
        session.call("POST", path, body=body)
    except EbayError as err:
        if ALREADY_EXISTS in err.error_ids:  # made meanwhile (another run): it exists
            return Step(name, Status.IN_PLACE, f"merchant location {key} exists", value=key)
        if err.status >= 500 or meaning(err) is not Meaning.PERMANENT:
            raise session.refused(err, f"the creation of location {key}") from None
        return Step(
            name,
            Status.MISSING,
            f"eBay refused to create merchant location {key}: {err.describe()}; check "
            f"{LOCATION_SECTION} and merchant_location_key",
            key="merchant_location_key",
            value=key,
        )
    shown = ", ".join(str(v) for v in address.values())
    return Step(name, Status.DONE, f"created merchant location {key} ({shown})", value=key)


def location_address(account: AccountSettings) -> tuple[dict[str, str] | None, str]:
    """The address eBay needs (a country, and a postal code or a city and state), or
    (None, the keys to set) when the configuration cannot give one."""
    where = LOCATION_SECTION
    loc = account.location
    country = loc.country.strip().upper()
    if not country:
        return None, f"country in {where}"
    address = {"country": country}
    if loc.postal_code.strip():
        address["postalCode"] = loc.postal_code.strip()
    if loc.city.strip():
        address["city"] = loc.city.strip()
    if loc.state_or_province.strip():
        address["stateOrProvince"] = loc.state_or_province.strip()
    if "postalCode" in address or ("city" in address and "stateOrProvince" in address):
        return address, ""
    return None, f"postal_code (or city and state_or_province) in {where}"


def _policies(session: _Session, account: AccountSettings) -> list[Step] | None:
    """The three policies; None while eBay is still processing the opt-in (20403)."""
    steps: list[Step] = []
    for kind in POLICY_KINDS:
        try:
            answer = session.call(
                "GET", kind.path, params={"marketplace_id": account.marketplace_id}
            )
        except EbayError as err:
            if NOT_ELIGIBLE in err.error_ids:
                return None
            raise session.refused(err, f"the {kind.label} policy lookup") from None
        steps.append(policy_step(kind, answer, account))
    return steps


def _waiting(kind: PolicyKind) -> Step:
    return Step(
        f"{kind.label}_policy",
        Status.WAITING,
        f"the {kind.label} policy can be checked once eBay has processed the opt-in",
        key=kind.key,
    )


def policy_step(kind: PolicyKind, answer: dict[str, Any], account: AccountSettings) -> Step:
    """The policy of `kind` the account uses, from the Account API's list for the
    marketplace: the configured id if it is there, else the only one."""
    name = f"{kind.label}_policy"
    marketplace = account.marketplace_id
    found = tuple(Choice(c.policy_id, c.name) for c in candidates(kind, answer))
    configured = str(getattr(account, kind.key) or "").strip()
    where = f"[platforms.ebay] (or [account_overrides.{account.account_id}])"
    if configured:
        match = next((c for c in found if c.policy_id == configured), None)
        if match is not None:
            return Step(
                name,
                Status.IN_PLACE,
                f"{kind.key} = {configured}{_named(match)} exists for {marketplace}",
                key=kind.key,
                value=configured,
            )
        return Step(
            name,
            Status.MISSING,
            f"{kind.key} = {configured} is not one of the seller's {kind.label} policies for "
            f"{marketplace}; set {kind.key} in {where} to "
            + (_listed(found) if found else "a policy created in eBay's Seller Hub"),
            key=kind.key,
            value=configured,
            choices=found,
        )
    if len(found) == 1:
        only = found[0]
        return Step(
            name,
            Status.IN_PLACE,
            f"using the only {kind.label} policy for {marketplace}: {only.policy_id}{_named(only)}",
            key=kind.key,
            value=only.policy_id,
        )
    if not found:
        return Step(
            name,
            Status.MISSING,
            f"the seller has no {kind.label} policy for {marketplace}: create one in eBay's "
            f"Seller Hub (Account > Business policies), then run this again",
            key=kind.key,
        )
    return Step(
        name,
        Status.MISSING,
        f"the seller has {len(found)} {kind.label} policies for {marketplace}: "
        f"{_listed(found)}; set {kind.key} in {where} to the one to use",
        key=kind.key,
        choices=found,
    )


def _named(choice: Choice) -> str:
    return f" ({choice.name})" if choice.name else ""


def _listed(choices: tuple[Choice, ...]) -> str:
    return ", ".join(f"{c.policy_id}{_named(c)}" for c in choices)
