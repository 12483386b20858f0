"""Yahoo!'s hook for `upload-scheduler rules check`: `build_item` of `listing.py`, the
same the adapter runs before sending, under the account's `[platforms.yahoo.rules]`.
No network: the images are not downloaded (a missing image is found at upload time)."""

from __future__ import annotations

from upload_scheduler.config import AccountSettings, Settings
from upload_scheduler.platforms.interface import Product
from upload_scheduler.platforms.listing_check import ListingCheck, Violation
from upload_scheduler.platforms.thebase.rules import load_rules
from upload_scheduler.platforms.yahoo.listing import ListingRefused, build_item


def listing_check(settings: Settings, platform: str) -> ListingCheck:
    """The hook `platforms.listing_check.CHECKS` names. Raises RulesError for an
    unusable rules section (a missing ng_words_file), as BASE's does."""
    rules = load_rules(settings.platform_config(platform).rules, settings.base_dir)

    def check(product: Product, account: AccountSettings | None) -> Violation | None:
        if account is None:
            return Violation(
                "account", f"the account is not configured under [accounts] {platform}"
            )
        try:
            build_item(product, account, rules)
        except ListingRefused as refused:
            return Violation(refused.rule, str(refused))
        return None

    return check
