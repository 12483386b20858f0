"""The seller's three business policies an offer names (fulfillment, payment, return):
the configured id, else the seller's only policy of that kind for the marketplace.

Pure: the adapter (and `account setup`) fetch the Account API's answer and ask here which
id it gives, so the rule "exactly one, else name the key to set" is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from upload_scheduler.platforms.ebay.mapping import setup_hint
from upload_scheduler.platforms.errors import Misconfigured


@dataclass(frozen=True)
class PolicyKind:
    label: str  # "fulfillment"
    key: str  # the setting: "fulfillment_policy_id"
    path: str  # the Account API's list: GET {path}?marketplace_id=…
    list_field: str  # the answer's list
    id_field: str  # each entry's id, and the offer's listingPolicies field


POLICY_KINDS = (
    PolicyKind(
        "fulfillment",
        "fulfillment_policy_id",
        "/sell/account/v1/fulfillment_policy",
        "fulfillmentPolicies",
        "fulfillmentPolicyId",
    ),
    PolicyKind(
        "payment",
        "payment_policy_id",
        "/sell/account/v1/payment_policy",
        "paymentPolicies",
        "paymentPolicyId",
    ),
    PolicyKind(
        "return",
        "return_policy_id",
        "/sell/account/v1/return_policy",
        "returnPolicies",
        "returnPolicyId",
    ),
)


@dataclass(frozen=True)
class Policies:
    """The ids an offer's `listingPolicies` carries, by the offer's field name."""

    ids: tuple[tuple[str, str], ...]  # (id_field, id) per kind, in POLICY_KINDS order

    def listing_policies(self) -> dict[str, str]:
        return dict(self.ids)


@dataclass(frozen=True)
class Candidate:
    policy_id: str
    name: str


def candidates(kind: PolicyKind, answer: dict[str, Any]) -> list[Candidate]:
    """The policies of `kind` in the Account API's answer."""
    found = []
    for entry in answer.get(kind.list_field) or ():
        if isinstance(entry, dict) and entry.get(kind.id_field):
            found.append(Candidate(str(entry[kind.id_field]), str(entry.get("name") or "")))
    return found


def only_policy(
    kind: PolicyKind, answer: dict[str, Any], *, account_id: str, marketplace_id: str
) -> str:
    """The id of the seller's only policy of `kind`; Misconfigured naming the key to set
    when there is none or more than one (eBay would refuse every publish)."""
    found = candidates(kind, answer)
    if len(found) == 1:
        return found[0].policy_id
    where = f"[platforms.ebay] or [account_overrides.{account_id}]"
    if not found:
        raise Misconfigured(
            f"ebay account {account_id}: the seller has no {kind.label} policy for "
            f"{marketplace_id}; create one on eBay, or set {kind.key} in {where}; "
            f"{setup_hint(account_id)}"
        )
    shown = ", ".join(f"{c.policy_id} ({c.name})" if c.name else c.policy_id for c in found)
    raise Misconfigured(
        f"ebay account {account_id}: the seller has {len(found)} {kind.label} policies for "
        f"{marketplace_id} ({shown}); set {kind.key} in {where} to the one to use; "
        f"{setup_hint(account_id)}"
    )
