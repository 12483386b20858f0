"""The BASE adapter's delete and existence check against the in-process sandbox:
POST /1/items/delete with item_id, bad_item_id meaning already gone, and the item detail
(id in the path) telling whether an item is still there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.base_helpers import SHOP_B, base_env, product
from upload_scheduler.platforms.errors import RateLimited
from upload_scheduler.platforms.interface import DeleteResult, Platform

DELETE = "/1/items/delete"


def test_delete_removes_the_item_and_a_second_delete_finds_it_gone(
    tmp_path: Path, database_url: str
) -> None:
    with base_env(tmp_path, database_url) as env:
        assert isinstance(env.platform, Platform)
        created = env.platform.upload(product("B0BDEL0001", images=1), env.account())
        item_id = created.platform_item_id
        assert env.platform.exists(item_id, env.account()) is True

        assert env.platform.delete(item_id, env.account()) == DeleteResult(1, already_gone=False)
        assert env.items() == []
        assert env.platform.exists(item_id, env.account()) is False
        assert env.platform.delete(item_id, env.account()) == DeleteResult(1, already_gone=True)

        deletes = env.calls(DELETE)
        assert [c["item_id"] for c in deletes] == [item_id, item_id]
        assert env.calls()[-2]["path"] == f"/1/items/detail/{item_id}"


def test_another_shops_item_is_gone_for_this_shop(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, login=("shop_a", SHOP_B)) as env:
        theirs = env.platform.upload(product("B0BDEL0002", images=0), env.account(SHOP_B))
        result = env.platform.delete(theirs.platform_item_id, env.account())
        assert result.already_gone
        assert len(env.items(SHOP_B)) == 1  # untouched


def test_a_rate_limited_delete_raises_the_pause_error(tmp_path: Path, database_url: str) -> None:
    with base_env(tmp_path, database_url, hour_call_limit=1) as env:
        created = env.platform.upload(product("B0BDEL0003", images=0), env.account())
        with pytest.raises(RateLimited, match="hour_api_limit"):
            env.platform.delete(created.platform_item_id, env.account())
        assert len(env.items()) == 1
