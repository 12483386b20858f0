"""The store API's calls, each carried out on one store once the request passed the
token, the store, the limits and the faults: editItem, uploadItemImage, setStock,
submitItem, reservePublish, getItem, deleteItem. Each fills in the record entry's
`effect` (and what goes with it) when it changed something.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from upload_scheduler.platforms.sandbox_http import Request
from upload_scheduler.platforms.yahoo.sandbox import answers
from upload_scheduler.platforms.yahoo.sandbox.answers import Reply, YahooError
from upload_scheduler.platforms.yahoo.sandbox.items import ImageFile, Store
from upload_scheduler.platforms.yahoo.sandbox.options import YahooSandboxOptions
from upload_scheduler.platforms.yahoo.sandbox.record import now_iso
from upload_scheduler.platforms.yahoo.sandbox.upload import read_upload
from upload_scheduler.platforms.yahoo.sandbox.validation import check_item


@dataclass(frozen=True)
class Call:
    """One API request, as a handler sees it."""

    store: Store
    params: dict[str, str]
    request: Request
    entry: dict[str, Any]
    now: datetime  # the arrival
    options: YahooSandboxOptions

    def code(self) -> str:
        return self.params.get("item_code", "")


def edit_item(call: Call) -> Reply:
    fields, left_out = check_item(call.params)
    item = call.store.edit(fields, left_out)
    call.entry.update(effect="item_edited", display=fields["display"], reset_fields=left_out)
    return answers.ok(item.code)


def upload_item_image(call: Call) -> Reply:
    upload = read_upload(
        call.request.header("content-type"), call.request.body, call.options.image_max_bytes
    )
    call.entry.update(file_name=upload.file_name, item_code=upload.item_code)
    if not call.store.count_upload(call.now, call.options.image_hour_limit):
        call.entry["refused"] = "image_hour_limit"
        raise answers.unavailable("too many images this hour", "image_hour_limit")
    image = ImageFile(upload.file_name, len(upload.data), upload.format, call.now)
    call.store.add_image(image, upload.item_code)
    call.entry.update(effect="image_uploaded", size=image.size, format=image.format)
    return answers.ok()


def set_stock(call: Call) -> Reply:
    item = call.store.live(call.code())
    quantity = call.params.get("quantity", "")
    if not (quantity.isascii() and quantity.isdigit()):
        raise YahooError(400, "quantity must be a whole number", answers.BAD_QUANTITY_CODE)
    item.stock = int(quantity)
    call.entry.update(effect="stock_set", quantity=item.stock)
    return answers.ok()


def submit_item(call: Call) -> Reply:
    snapshot = call.store.submit(call.code(), call.now, call.options.publish_delay)
    call.entry.update(effect="submitted", publish_at=now_iso(snapshot.publish_at))
    return answers.ok()


def reserve_publish(call: Call) -> Reply:
    if call.params.get("mode") != "1" or call.params.get("reserve_time"):
        raise YahooError(
            400,
            "the sandbox publishes mode=1 with an empty reserve_time only",
            answers.BAD_PUBLISH_CODE,
        )
    snapshots = call.store.reserve_all(call.now, call.options.publish_delay)
    publish_at = call.now.timestamp() + call.options.publish_delay
    call.entry.update(
        effect="publish_reserved",
        publish_at=now_iso(datetime.fromtimestamp(publish_at, call.now.tzinfo)),
        item_codes=[s.fields["item_code"] for s in snapshots],
    )
    return answers.ok()


def get_item(call: Call) -> Reply:
    item = call.store.live(call.code())
    entry = {_element(name): value for name, value in item.fields.items()}
    if item.stock is not None:
        entry["Quantity"] = str(item.stock)
    return Reply.xml(200, answers.result_set([entry]))


def delete_item(call: Call) -> Reply:
    call.store.delete(call.code())
    call.entry["effect"] = "item_deleted"
    return answers.ok()


# api -> (HTTP method, where seller_id travels, handler)
APIS: dict[str, tuple[str, str, Callable[[Call], Reply]]] = {
    "editItem": ("POST", "form", edit_item),
    "uploadItemImage": ("POST", "query", upload_item_image),
    "setStock": ("POST", "form", set_stock),
    "submitItem": ("POST", "form", submit_item),
    "reservePublish": ("POST", "form", reserve_publish),
    "getItem": ("GET", "query", get_item),
    "deleteItem": ("POST", "form", delete_item),
}


def _element(field: str) -> str:
    """`product_category` -> `ProductCategory`: getItem's element names."""
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))
