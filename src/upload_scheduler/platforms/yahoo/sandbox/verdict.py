"""The verdict on a run against the Yahoo! sandbox, drawn from its record alone (so it
can be drawn again from a `--record` file after the sandbox stopped).

The record's carried-out calls are replayed, in order, through the sandbox's own store
model (`items.Store`), so the verdict sees what the sandbox's state saw: per store the
item codes, whether each is published, has a change left unpublished, and what its
published snapshot holds (main image, other images). Problems: a request refused for
frequency (429), for the application's day budget (403) or the images' hour (503);
an editItem that left out one of the contract's fields (it was reset); and, when the
run should have published everything, an item unpublished, with a pending change,
published without its main image or not displayed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from upload_scheduler.platforms.yahoo.sandbox.faults import FAULT_KINDS
from upload_scheduler.platforms.yahoo.sandbox.items import ImageFile, Item, Store

REFUSALS = ("too_many_requests", "app_day_limit", "image_hour_limit")


@dataclass(frozen=True)
class ItemVerdict:
    published: bool
    pending: bool
    deleted: bool
    main_image: bool  # in the published snapshot
    images: int  # other images in the published snapshot
    images_uploaded: int  # other images the store holds for it now
    display: str | None  # as published
    edits: int

    @classmethod
    def of(cls, store: Store, item: Item) -> ItemVerdict:
        shown = item.published
        names = set(shown.images) if shown else set()
        code = item.code
        return cls(
            published=shown is not None,
            pending=item.pending(),
            deleted=item.deleted,
            main_image=f"{code}.jpg" in names,
            images=len(names - {f"{code}.jpg"}),
            images_uploaded=len(set(store.images_of(code)) - {f"{code}.jpg"}),
            display=shown.fields.get("display") if shown else None,
            edits=item.edits,
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class YahooVerdict:
    problems: tuple[str, ...]
    api_calls: int
    refused: dict[str, int]  # too_many_requests (429), app_day_limit (403), image_hour_limit
    faults: dict[str, int]
    reset_fields: dict[str, dict[str, list[str]]]  # store -> item_code -> fields left out
    stores: dict[str, dict[str, ItemVerdict]]  # store -> item_code -> verdict

    @property
    def ok(self) -> bool:
        return not self.problems

    def item_codes(self, seller_id: str) -> list[str]:
        return sorted(self.stores.get(seller_id, {}))

    def to_json(self) -> dict[str, Any]:
        """What GET /_sandbox/verdict answers."""
        return {
            "ok": self.ok,
            "problems": list(self.problems),
            "api_calls": self.api_calls,
            "refused": self.refused,
            "faults": self.faults,
            "reset_fields": self.reset_fields,
            "stores": {
                seller: {
                    "item_codes": sorted(items),
                    "items": {code: v.to_json() for code, v in sorted(items.items())},
                }
                for seller, items in sorted(self.stores.items())
            },
        }


def check_calls(
    calls: Iterable[dict[str, Any]],
    *,
    now: datetime | None = None,
    expect_all_published: bool = False,
    require_whole_items: bool = True,
) -> YahooVerdict:
    """Replay the record (in its order) and judge the run. `now`: when the verdict is
    drawn (publishes due later have not happened); None: after every publish."""
    problems: list[str] = []
    stores: dict[str, Store] = {}
    refused = dict.fromkeys(REFUSALS, 0)
    faults = dict.fromkeys(FAULT_KINDS, 0)
    reset: dict[str, dict[str, list[str]]] = {}
    api_calls = 0
    for call in calls:
        if call.get("fault") in faults:
            faults[call["fault"]] += 1
        if call.get("api") is None:
            continue
        api_calls += 1
        seller = str(call.get("seller_id"))
        if call.get("refused") in refused:
            refused[call["refused"]] += 1
            problems.append(
                f"{call['time']} store {seller}: {call['api']} answered {call.get('status')} "
                f"({call['refused']})"
            )
        if call.get("effect") is None:
            continue
        store = stores.setdefault(seller, Store(seller))
        at = datetime.fromisoformat(call["time"])
        store.settle(at)
        _replay(store, call, at)
        if call.get("reset_fields"):
            reset.setdefault(seller, {})[str(call["item_code"])] = list(call["reset_fields"])
    end = now or max((s.publish_at for st in stores.values() for s in st.queue), default=None)
    if end is not None:
        for store in stores.values():
            store.settle(end)
    if require_whole_items:
        problems += [
            f"store {seller}: editItem of {code} left out {', '.join(fields)} (reset)"
            for seller, codes in sorted(reset.items())
            for code, fields in sorted(codes.items())
        ]
    judged = {
        seller: {code: ItemVerdict.of(store, item) for code, item in store.items.items()}
        for seller, store in stores.items()
    }
    if expect_all_published:
        problems += _unpublished(judged)
    return YahooVerdict(tuple(problems), api_calls, refused, faults, reset, judged)


def _replay(store: Store, call: dict[str, Any], at: datetime) -> None:
    """Carry out one recorded call on the replayed store."""
    effect, code = call["effect"], str(call.get("item_code"))
    delay = 0.0
    if call.get("publish_at"):
        delay = (datetime.fromisoformat(call["publish_at"]) - at).total_seconds()
    if effect == "item_edited":
        fields = {"item_code": code, "display": str(call.get("display"))}
        store.edit(fields, tuple(call.get("reset_fields") or ()))
    elif effect == "image_uploaded":
        name = str(call["file_name"])
        image = ImageFile(name, int(call.get("size") or 0), str(call.get("format")), at)
        store.add_image(image, code)
    elif effect == "stock_set":
        store.live(code).stock = int(call["quantity"])
    elif effect == "item_deleted":
        store.delete(code)
    elif effect == "submitted":
        store.submit(code, at, delay)
    elif effect == "publish_reserved":
        store.reserve_all(at, delay)


def _unpublished(stores: dict[str, dict[str, ItemVerdict]]) -> list[str]:
    problems = []
    for seller, items in sorted(stores.items()):
        for code, item in sorted(items.items()):
            where = f"store {seller}: {code}"
            if not item.published and not item.deleted:
                problems.append(f"{where} is not published")
            elif item.pending:
                problems.append(f"{where} has a change left unpublished")
            if item.published and not item.deleted:
                if not item.main_image:
                    problems.append(f"{where} is published without its main image")
                if item.display != "1":
                    problems.append(f"{where} is published hidden (display={item.display})")
    return problems
