"""An old system's root folder, built in a test's tmp_path: the master DB with the old
schema (plain sqlite3, no unique constraint on the queue) and the old system's known
defects, account_config.json, token files and scheduler/config/accounts_config.py; with
`ebay=True`, also the later eBay module's part (platforms/ebay/accounts/, eBay listings
and queue rows, ebay_listing_metadata).

Each product ASIN names the case it exercises; the tests assert on them by name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

OLD_SCHEMA = """
CREATE TABLE products (
    asin TEXT PRIMARY KEY,
    title_ja TEXT, title_en TEXT, description_ja TEXT, description_en TEXT,
    category TEXT, brand TEXT, images TEXT,
    amazon_price_jpy INTEGER, amazon_in_stock BOOLEAN,
    last_fetched_at TIMESTAMP, created_at TIMESTAMP, updated_at TIMESTAMP
);
CREATE TABLE listings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asin TEXT NOT NULL, platform TEXT NOT NULL, account_id TEXT,
    platform_item_id TEXT, sku TEXT UNIQUE, selling_price REAL, currency TEXT DEFAULT 'JPY',
    in_stock_quantity INTEGER, status TEXT DEFAULT 'pending', visibility TEXT DEFAULT 'public',
    listed_at TIMESTAMP, updated_at TIMESTAMP,
    UNIQUE (asin, platform, account_id)
);
-- status: pending/processing/completed/failed (the code writes other values)
CREATE TABLE upload_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asin TEXT NOT NULL, platform TEXT NOT NULL, account_id TEXT,
    scheduled_time TIMESTAMP, priority INTEGER DEFAULT 0, status TEXT DEFAULT 'pending',
    retry_count INTEGER DEFAULT 0, error_message TEXT,
    created_at TIMESTAMP, processed_at TIMESTAMP
);
"""

ACCOUNT_1 = "base_account_1"
ACCOUNT_2 = "base_account_2"
INACTIVE = "base_account_3"
SECRET_1 = "s3cret-one-AAAAAAAAAAAA"
SECRET_2 = "s3cret-two-BBBBBBBBBBBB"
ACCESS_1 = "access-token-one-CCCCCCCC"
REFRESH_1 = "refresh-token-one-DDDDDDDD"
CLIENT_ID = "client-id-shared"
MARKER = "accounts_config_was_executed"

# Local (JST) times as the old system wrote them.
T_QUEUED = "2025-11-28 14:24:10"  # = 05:24:10 UTC
T_LISTED = "2025-11-20 10:00:00"  # = 01:00:00 UTC
T_CREATED = "2025-11-27 20:00:00"

# product asin: (title_ja, title_en, amazon_price_jpy, images)
PRODUCTS: dict[str, tuple[str | None, str | None, int | None, list[str]]] = {
    "B0QUEUED01": ("待機中の商品", None, 1800, ["https://img.example/1.jpg"]),
    "B0PENDING1": (None, "English title only", 2000, []),
    "B0NOPRICE1": ("価格なし（Amazon価格あり）", None, 3000, []),
    "B0NOPRICE2": ("価格なし", None, None, []),
    "B0LISTED01": ("出品済み", None, 1500, []),
    "B0SOLD0001": ("売れた商品", None, 1500, []),
    "B0DELISTED": ("取り下げ", None, 1500, []),
    "B0DUPQUEUE": ("重複キュー", None, 1500, []),
    "B0UPLOADIN": ("アップロード中", None, 1500, []),
    "B0INACTIVE": ("休止アカウント", None, 1500, []),
    "B0BADTIME1": ("時刻が壊れている", None, 1500, []),
    "B0UNASSIGN": ("未割当", None, 990, []),
    "B0PRIORITY": ("優先度50", None, 1500, []),
}

# (asin, account_id, status, selling_price, platform_item_id, listed_at)
LISTINGS: list[tuple[str, str | None, str, float | None, str | None, str | None]] = [
    ("B0QUEUED01", ACCOUNT_1, "queued", 1980.0, None, None),
    ("B0PENDING1", ACCOUNT_1, "pending", 2480.5, None, None),
    ("B0NOPRICE1", ACCOUNT_1, "pending", None, None, None),
    ("B0NOPRICE2", ACCOUNT_1, "pending", None, None, None),
    ("B0LISTED01", ACCOUNT_1, "listed", 1500.0, "123456", T_LISTED),
    ("B0SOLD0001", ACCOUNT_2, "sold", 1500.0, "222222", T_LISTED),
    ("B0DELISTED", ACCOUNT_1, "delisted", 1500.0, "333333", T_LISTED),
    ("B0DUPQUEUE", ACCOUNT_2, "queued", 1500.0, None, None),
    ("B0UPLOADIN", ACCOUNT_1, "queued", 1500.0, None, None),
    ("B0INACTIVE", INACTIVE, "queued", 1500.0, None, None),
    ("B0BADTIME1", ACCOUNT_1, "queued", 1500.0, None, None),
    ("B0UNASSIGN", None, "pending", 990.0, None, None),
    ("B0PRIORITY", ACCOUNT_1, "queued", 1500.0, None, None),
    ("B0GHOST002", ACCOUNT_1, "pending", 1000.0, None, None),  # no product
]

# (asin, account_id, scheduled_time, priority, status, created_at)
QUEUE: list[tuple[str, str | None, str | None, int | None, str, str | None]] = [
    ("B0QUEUED01", ACCOUNT_1, T_QUEUED, 0, "pending", T_CREATED),  # id 1
    ("B0DUPQUEUE", ACCOUNT_2, T_QUEUED, 10, "pending", T_CREATED),  # id 2: carried
    ("B0DUPQUEUE", ACCOUNT_2, T_QUEUED, 10, "scheduled", T_CREATED),  # id 3: duplicate
    ("B0DUPQUEUE", ACCOUNT_2, T_QUEUED, 10, "pending", T_CREATED),  # id 4: duplicate
    ("B0UPLOADIN", ACCOUNT_1, T_QUEUED, 0, "uploading", T_CREATED),  # id 5
    ("B0INACTIVE", INACTIVE, T_QUEUED, 0, "pending", T_CREATED),  # id 6
    ("B0BADTIME1", ACCOUNT_1, "tomorrow morning", 0, "pending", T_CREATED),  # id 7
    ("B0GHOST001", ACCOUNT_1, T_QUEUED, 0, "pending", T_CREATED),  # id 8: no product
    ("B0PENDING1", ACCOUNT_2, T_QUEUED, 0, "pending", T_CREATED),  # id 9: no listing
    ("B0NOPRICE1", ACCOUNT_1, T_QUEUED, 0, "pending", T_CREATED),  # id 10: needs a price
    ("B0LISTED01", ACCOUNT_1, T_QUEUED, 0, "success", T_CREATED),  # id 11: history
    ("B0PENDING1", ACCOUNT_1, T_QUEUED, 0, "failed", T_CREATED),  # id 12: history
    ("B0UNASSIGN", ACCOUNT_2, "2025-11-29 06:00:00", None, "scheduled", T_CREATED),  # id 13
    ("B0PRIORITY", ACCOUNT_1, T_QUEUED, 50, "pending", T_CREATED),  # id 14
    ("B0LISTED01", ACCOUNT_1, T_QUEUED, 0, "pending", T_CREATED),  # id 15: already listed
]

ACCOUNTS_CONFIG_PY = f"""\
# The old scheduler's settings. import-legacy must read this, never run it.
from pathlib import Path
Path(__file__).with_name("{MARKER}").write_text("ran")

UPLOAD_ACCOUNTS = {{
    'base': [
        '{ACCOUNT_1}',
        '{ACCOUNT_2}',
        '{INACTIVE}',
    ],
    'ebay': ['ebay_account_1'],
    'yahoo': ['yahoo_account_1'],
}}

DAEMON_CONFIG = {{
    'interval_seconds': 30,  # チェック間隔（秒）
    'batch_size': 15,
    'business_hours_start': 7,
    'business_hours_end': 22,
    'log_level': 'INFO',
}}

ACCOUNT_SPECIFIC_CONFIG = {{
    '{ACCOUNT_2}': {{
        'business_hours_start': 9,
        'business_hours_end': 18,
    }},
    '{INACTIVE}': {{'batch_size': 5}},
}}
"""


# ---------------------------------------------------------------------- the eBay part

EBAY_1 = "ebay_account_1"  # production
EBAY_2 = "ebay_account_2"  # sandbox, on its own App ID (unless the app is shared)
EBAY_INACTIVE = "ebay_account_3"
EBAY_APP_1 = "SellerCo-Lister-PRD-0123456789-abcdef01"
EBAY_APP_2 = "SellerCo-Lister-SBX-0123456789-abcdef02"
EBAY_CERT_1 = "PRD-ebay-cert-one-EEEEEEEEEEEE"
EBAY_CERT_2 = "SBX-ebay-cert-two-FFFFFFFFFFFF"
EBAY_DEV_ID = "ebay-dev-id-GGGGGGGG"
EBAY_RUNAME_1 = "Seller_Co-SellerCo-Lister-PRD-abcdefgh"
EBAY_RUNAME_2 = "Seller_Co-SellerCo-Lister-SBX-ijklmnop"
EBAY_ACCESS_1 = "v^1.1#i^1#ebay-access-one-HHHHHHHH"
EBAY_REFRESH_1 = "v^1.1#i^1#ebay-refresh-one-IIIIIIII"
EBAY_ACCESS_2 = "v^1.1#i^1#ebay-access-two-JJJJJJJJ"
EBAY_REFRESH_2 = "v^1.1#i^1#ebay-refresh-two-KKKKKKKK"
EBAY_SECRETS = (
    EBAY_CERT_1,
    EBAY_CERT_2,
    EBAY_ACCESS_1,
    EBAY_REFRESH_1,
    EBAY_ACCESS_2,
    EBAY_REFRESH_2,
)
EBAY_LOCATION = "TOKYO_WAREHOUSE"
EBAY_SKU_PREFIX = "JP-"
T_TOKEN_SAVED = "2025-11-28T10:00:00"  # JST = 01:00:00 UTC
REFRESH_LIFETIME = 47_304_000  # eBay's 18 months, in seconds

# product asin: (title_ja, title_en, amazon_price_jpy)
EBAY_PRODUCTS: dict[str, tuple[str | None, str | None, int]] = {
    "B0EBAYLIST": (None, "Listed on eBay", 4000),
    "B0EBAYSOLD": (None, "Sold on eBay (sandbox)", 4000),
    "B0EBAYNOOF": (None, "Listed, own SKU, no offer", 4000),
    "B0EBAYONLY": (None, "Pending on eBay only", 3000),
    "B0EBAYBEGN": (None, "Begun by the old module", 3500),
    "B0BOTHPEND": ("両方で待機", "Pending on both", 2000),
}
# (asin, platform, account_id, status, selling_price, platform_item_id, sku, currency)
EBAY_LISTINGS: list[tuple[str, str, str | None, str, float | None, str | None, str, str]] = [
    ("B0EBAYLIST", "ebay", EBAY_1, "listed", 29.99, "110000000001", "JP-B0EBAYLIST", "USD"),
    ("B0EBAYSOLD", "ebay", EBAY_2, "sold", 29.99, None, "JP-B0EBAYSOLD", "USD"),
    ("B0EBAYNOOF", "ebay", EBAY_1, "listed", 29.99, "110000000003", "CUSTOM-7", "USD"),
    # Its currency was never set: the column's default says JPY, the price is dollars.
    ("B0EBAYONLY", "ebay", EBAY_2, "pending", 24.99, None, "JP-B0EBAYONLY", "JPY"),
    ("B0EBAYBEGN", "ebay", EBAY_1, "queued", 22.5, None, "JP-B0EBAYBEGN", "USD"),
    ("B0BOTHPEND", "ebay", EBAY_1, "queued", 19.99, None, "JP-B0BOTHPEND", "USD"),
    ("B0BOTHPEND", "base", ACCOUNT_1, "pending", 2500.0, None, "BASE-B0BOTHPEND", "JPY"),
]
# (asin, account_id, status)
EBAY_QUEUE: list[tuple[str, str, str]] = [
    ("B0BOTHPEND", EBAY_1, "pending"),  # carried
    ("B0EBAYBEGN", EBAY_1, "scheduled"),  # carried, looked up on eBay first
    ("B0EBAYLIST", EBAY_1, "success"),  # history
    ("B0EBAYONLY", EBAY_INACTIVE, "pending"),  # the account is inactive: left behind
]
# sku -> (listing_id, offer_id)
EBAY_METADATA: dict[str, tuple[str | None, str | None]] = {
    "JP-B0EBAYLIST": ("110000000001", "5000000001"),
    "JP-B0EBAYSOLD": ("110000000002", "5000000002"),
    "JP-B0EBAYBEGN": (None, "5000000009"),
    "JP-B0GONE0001": ("110000000099", "5000000099"),  # its listing row is gone
}
EBAY_METADATA_SCHEMA = """
CREATE TABLE ebay_listing_metadata (
    sku TEXT PRIMARY KEY, listing_id TEXT, offer_id TEXT, category_id TEXT,
    policy_payment_id TEXT, policy_return_id TEXT, policy_fulfillment_id TEXT,
    item_specifics TEXT, merchant_location_key TEXT, created_at TIMESTAMP, updated_at TIMESTAMP
);
"""


@dataclass(frozen=True)
class OldRoot:
    root: Path

    @property
    def master_db(self) -> Path:
        return self.root / "inventory" / "data" / "master.db"

    @property
    def settings_file(self) -> Path:
        return self.root / "scheduler" / "config" / "accounts_config.py"


def build_old_root(
    tmp_path: Path,
    *,
    extra_products: int = 0,
    ebay: bool = False,
    ebay_metadata: bool = True,
    ebay_shared_app: bool = False,
) -> OldRoot:
    """The old root folder with every case above; `extra_products` adds that many plain
    products, each with a pending listing and two identical queue rows (a duplicate).
    `ebay` adds the eBay module's part: two active sellers (the second a sandbox seller on
    its own App ID, or with `ebay_shared_app` a production seller on the first's), an
    inactive one, their token files, eBay listings and queue rows, and (unless
    `ebay_metadata` is False, as in databases older than it) ebay_listing_metadata."""
    old = OldRoot(tmp_path / "old-system")
    old.master_db.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(old.master_db)) as db, db:
        db.executescript(OLD_SCHEMA)
        for asin, (title_ja, title_en, amazon, images) in PRODUCTS.items():
            db.execute(
                "INSERT INTO products (asin, title_ja, title_en, description_ja, brand, "
                "category, images, amazon_price_jpy, amazon_in_stock, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'ブランド', 'カテゴリ', ?, ?, 1, ?, ?)",
                (asin, title_ja, title_en, f"{asin}の説明", json.dumps(images), amazon,
                 T_CREATED, T_CREATED),
            )  # fmt: skip
        for n, (asin, account, status, price, item_id, listed_at) in enumerate(LISTINGS):
            db.execute(
                "INSERT INTO listings (asin, platform, account_id, platform_item_id, sku, "
                "selling_price, in_stock_quantity, status, listed_at, updated_at) "
                "VALUES (?, 'base', ?, ?, ?, ?, 3, ?, ?, ?)",
                (asin, account, item_id, f"SKU{n}", price, status, listed_at, T_CREATED),
            )
        db.executemany(
            "INSERT INTO upload_queue (asin, platform, account_id, scheduled_time, priority, "
            "status, created_at) VALUES (?, 'base', ?, ?, ?, ?, ?)",
            QUEUE,
        )
        for n in range(extra_products):
            asin = f"B1BULK{n:05d}"
            db.execute(
                "INSERT INTO products (asin, title_ja, amazon_price_jpy, images, created_at) "
                "VALUES (?, ?, 1000, '[]', ?)",
                (asin, f"まとめて{n}", T_CREATED),
            )
            db.execute(
                "INSERT INTO listings (asin, platform, account_id, sku, selling_price, status, "
                "updated_at) VALUES (?, 'base', ?, ?, 1200, 'queued', ?)",
                (asin, ACCOUNT_1, f"BULK{n}", T_CREATED),
            )
            db.executemany(
                "INSERT INTO upload_queue (asin, platform, account_id, scheduled_time, status, "
                "created_at) VALUES (?, 'base', ?, ?, 'pending', ?)",
                [(asin, ACCOUNT_1, T_QUEUED, T_CREATED)] * 2,
            )
        if ebay:
            _add_ebay_rows(db, with_metadata=ebay_metadata)
    if ebay:
        _write_ebay_files(old.root, shared_app=ebay_shared_app)
    accounts_dir = old.root / "platforms" / "base" / "accounts"
    (accounts_dir / "tokens").mkdir(parents=True)
    (accounts_dir / "account_config.json").write_text(
        json.dumps(_account_config(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    tokens = accounts_dir / "tokens"
    (tokens / f"{ACCOUNT_1}_token.json").write_text(
        json.dumps(
            {
                "access_token": ACCESS_1,
                "refresh_token": REFRESH_1,
                "expires_in": 3600,
                "token_type": "Bearer",
                "obtained_at": "2025-11-28T14:00:00",
                "expires_at": "2025-11-28T15:00:00",
                "scope": "read_items write_items",
            }
        ),
        encoding="utf-8",
    )
    (tokens / "base_account_9_token.json").write_text('{"access_token": ', encoding="utf-8")
    old.settings_file.parent.mkdir(parents=True)
    old.settings_file.write_text(ACCOUNTS_CONFIG_PY, encoding="utf-8")
    return old


def _add_ebay_rows(db: sqlite3.Connection, *, with_metadata: bool) -> None:
    for asin, (title_ja, title_en, amazon) in EBAY_PRODUCTS.items():
        db.execute(
            "INSERT INTO products (asin, title_ja, title_en, description_ja, description_en, "
            "brand, category, images, amazon_price_jpy, amazon_in_stock, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, 'Brand', 'Toys', '[]', ?, 1, ?, ?)",
            (asin, title_ja, title_en, f"{asin}の説明", f"About {asin}", amazon, T_CREATED,
             T_CREATED),
        )  # fmt: skip
    for asin, platform, account, status, price, item_id, sku, currency in EBAY_LISTINGS:
        db.execute(
            "INSERT INTO listings (asin, platform, account_id, platform_item_id, sku, "
            "selling_price, currency, in_stock_quantity, status, listed_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 2, ?, ?, ?)",
            (asin, platform, account, item_id, sku, price, currency, status,
             T_LISTED if status in ("listed", "sold") else None, T_CREATED),
        )  # fmt: skip
    db.executemany(
        "INSERT INTO upload_queue (asin, platform, account_id, scheduled_time, status, "
        "created_at) VALUES (?, 'ebay', ?, ?, ?, ?)",
        [(asin, account, T_QUEUED, status, T_CREATED) for asin, account, status in EBAY_QUEUE],
    )
    if with_metadata:
        db.executescript(EBAY_METADATA_SCHEMA)
        db.executemany(
            "INSERT INTO ebay_listing_metadata (sku, listing_id, offer_id, category_id, "
            "item_specifics, merchant_location_key, created_at, updated_at) "
            "VALUES (?, ?, ?, '1234', '{}', ?, ?, ?)",
            [
                (sku, listing_id, offer_id, EBAY_LOCATION, T_CREATED, T_CREATED)
                for sku, (listing_id, offer_id) in EBAY_METADATA.items()
            ],
        )


def _write_ebay_files(root: Path, *, shared_app: bool) -> None:
    accounts_dir = root / "platforms" / "ebay" / "accounts"
    tokens = accounts_dir / "tokens"
    tokens.mkdir(parents=True)
    (accounts_dir / "account_config.json").write_text(
        json.dumps(_ebay_account_config(shared_app), ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    (tokens / f"{EBAY_1}_token.json").write_text(
        json.dumps(
            {  # no expires_at: the access token ends expires_in after token_saved_at
                "access_token": EBAY_ACCESS_1,
                "refresh_token": EBAY_REFRESH_1,
                "expires_in": 7200,
                "refresh_token_expires_in": REFRESH_LIFETIME,
                "token_type": "User Access Token",
                "token_saved_at": T_TOKEN_SAVED,
            }
        ),
        encoding="utf-8",
    )
    (tokens / f"{EBAY_2}_token.json").write_text(
        json.dumps(
            {
                "access_token": EBAY_ACCESS_2,
                "refresh_token": EBAY_REFRESH_2,
                "expires_in": 7200,
                "refresh_token_expires_in": REFRESH_LIFETIME,
                "token_type": "User Access Token",
                "token_saved_at": T_TOKEN_SAVED,
                "expires_at": "2025-11-28T11:30:00",  # says otherwise: it wins
            }
        ),
        encoding="utf-8",
    )


def _ebay_account_config(shared_app: bool) -> dict[str, object]:
    def account(
        account_id: str, environment: str, app: str, cert: str, runame: str, per_day: object
    ) -> dict[str, object]:
        return {
            "id": account_id,
            "name": f"eBay {account_id}",
            "description": "",
            "active": account_id != EBAY_INACTIVE,
            "environment": environment,
            "credentials": {
                "app_id": app,
                "cert_id": cert,
                "dev_id": EBAY_DEV_ID,
                "redirect_uri": runame,
            },
            "settings": {
                "merchant_location_key": EBAY_LOCATION,
                "default_currency": "USD",
                "rate_limit_per_day": per_day,
            },
        }

    second = (
        account(EBAY_2, "production", EBAY_APP_1, EBAY_CERT_1, EBAY_RUNAME_1, 5000)
        if shared_app
        else account(EBAY_2, "sandbox", EBAY_APP_2, EBAY_CERT_2, EBAY_RUNAME_2, "1000")
    )
    return {
        "accounts": [
            account(EBAY_1, "production", EBAY_APP_1, EBAY_CERT_1, EBAY_RUNAME_1, 5000),
            second,
            account(EBAY_INACTIVE, "production", EBAY_APP_1, EBAY_CERT_1, EBAY_RUNAME_1, 5000),
        ]
    }


def _account_config() -> dict[str, object]:
    def account(account_id: str, secret: str, active: bool, daily: int) -> dict[str, object]:
        return {
            "id": account_id,
            "name": f"ショップ {account_id}",
            "description": "",
            "active": active,
            "owner_id": "owner_1",
            "daily_upload_limit": daily,
            "rate_limit_per_hour": 4000,
            "credentials": {
                "client_id": CLIENT_ID,
                "client_secret": secret,
                "redirect_uri": "http://127.0.0.1:8765/callback",
            },
        }

    return {
        "owners": [{"id": "owner_1", "name": "オーナー"}],
        "accounts": [
            account(ACCOUNT_1, SECRET_1, True, 1000),
            account(ACCOUNT_2, SECRET_2, True, 500),
            account(INACTIVE, SECRET_1, False, 1000),
        ],
    }


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under `root`: its content hash and modification time."""
    return {
        str(path.relative_to(root)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
