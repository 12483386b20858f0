"""Issue 14's "Done when": no item that the platform created is recorded as anything but
`success` with its platform item id (or `failed` for missing images, its id kept), under
server errors, lost answers and kill -9.

Everything runs as a user runs it: the real CLI in subprocesses with a config file,
nothing injected. The platform's own record is the truth the queue is judged against:
the BASE sandbox's items (a process of its own) and the fake platform's `items` table.
The seed is fixed so a run can be repeated (`UPLOAD_SCHEDULER_FAULT_SEED` picks another);
the checks hold for any seed."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.cli import run_cli
from tests.acceptance.daemon_helpers import PLATFORM as FAKE
from tests.acceptance.daemon_helpers import Workspace, stop, workspace
from tests.acceptance.demo_helpers import (
    Sandbox,
    cli,
    kill_leftovers,
    login_all,
    ok,
    queue_json,
    sandbox_process,
    spawn,
    spawned_output,
    wait_for,
    write_config,
    write_products,
)
from tests.acceptance.manager_helpers import queue_rows

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(os.name == "nt", reason="kills processes with POSIX signals"),
]

SEED = int(os.environ.get("UPLOAD_SCHEDULER_FAULT_SEED", "14"))
SHOP = "shop_a"
ITEMS = 40
IMAGES = 2  # two image calls per item: a created item can end with images missing
MAX_ATTEMPTS = 2
RETRY_DELAY_SECONDS = 0.2
# What the issue tried: 30 % server errors and 30 % lost answers on every API call.
SANDBOX_FAULTS = ("--p-server-error", "0.3", "--p-lost-response", "0.3")
# The fake platform's equivalent, plus failed image calls (its `items` keep a count).
FAKE_FAULTS = "transient:0.3,lost:0.3,image:0.2"
FAKE_LATENCY = 0.02
DRAIN_SECONDS = 45.0
# The sandbox's faults last this long, then stop: what they left in doubt must settle.
FAULT_SECONDS = 12.0
FINAL = frozenset({"success", "failed"})
CREATED_ON_FAKE = frozenset({"created", "lost"})
# kill -9 once this many items are done, then start the daemon again.
KILL_AFTER = (8, 16, 24)
# Long enough for a restarted daemon to start and claim a burst before the next kill.
KILL_WAIT_SECONDS = 20.0
UNSPACED = {
    "min_interval_seconds": 0,
    "retry_delay_seconds": RETRY_DELAY_SECONDS,
    "max_attempts": MAX_ATTEMPTS,
}


@dataclass(frozen=True)
class Held:
    """One item the platform holds."""

    asin: str
    item_id: str
    images: int


@dataclass(frozen=True)
class Row:
    """One queue row, as the database and `check-queue --json` record it."""

    asin: str
    status: str
    listed_status: str | None  # what `check-queue --json` says
    attempts: int
    platform_item_id: str | None
    error_message: str | None


@dataclass(frozen=True)
class Outcome:
    """What a run left: the queue, the platform's items, and where to look for why."""

    rows: dict[str, Row]
    held: list[Held]
    creations: Counter[str]  # items/add calls per ASIN that created an item
    log: Path
    outputs: str  # the daemons' own output


def rows_of(db_rows: list[Mapping[str, Any]], listed: dict[str, Any]) -> dict[str, Row]:
    by_asin = {str(i["asin"]): str(i["status"]) for i in listed["items"]}
    return {
        str(r["asin"]): Row(
            asin=str(r["asin"]),
            status=str(r["status"]),
            listed_status=by_asin.get(str(r["asin"])),
            attempts=int(r["attempts"]),
            platform_item_id=None if r["platform_item_id"] is None else str(r["platform_item_id"]),
            error_message=r["error_message"],
        )
        for r in db_rows
    }


def problems(outcome: Outcome, asins: list[str]) -> list[str]:
    """Each way the queue disagrees with the platform, one line per ASIN."""
    found = []
    held: dict[str, list[Held]] = {}
    for item in outcome.held:
        held.setdefault(item.asin, []).append(item)
    for asin in sorted(set(asins) | set(held)):
        row, items = outcome.rows.get(asin), held.get(asin, [])
        wrong = _wrong(row, items, outcome.creations[asin])
        if wrong:
            found.append(f"{asin}: {wrong}; queue {row}; platform holds {items}")
    return found


def _wrong(row: Row | None, items: list[Held], creations: int) -> str | None:
    if row is None:
        return "the platform holds it, the queue has no row"
    if creations > 1 or len(items) > 1:
        return f"created {max(creations, len(items))} times"
    if row.status != row.listed_status:
        return f"check-queue --json says {row.listed_status!r}, the database {row.status!r}"
    if row.status not in FINAL:
        return f"still {row.status}"
    if row.attempts > MAX_ATTEMPTS:
        return f"{row.attempts} attempts recorded with max_attempts = {MAX_ATTEMPTS}"
    if not items:
        if row.status == "success" or row.platform_item_id is not None:
            return "recorded as created, but the platform holds nothing"
        return None
    item = items[0]
    if row.platform_item_id != item.item_id:
        return f"recorded {row.status} with id {row.platform_item_id}, the platform has {item}"
    if row.status == "success" and item.images < IMAGES:
        return f"success, but {item.images} of {IMAGES} images on the platform"
    if row.status == "failed" and "images missing" not in (row.error_message or ""):
        return "failed for another reason than missing images, yet the platform holds it"
    if row.status == "failed" and item.images >= IMAGES:
        # A lost answer to an image call is as ambiguous as one to the creation.
        return f"failed with images missing, yet the platform holds {item.images} of {IMAGES}"
    return None


def judge(outcome: Outcome, asins: list[str], scenario: str) -> None:
    """Fail with the seed, each ASIN that is wrong and the daemon's log lines for it."""
    found = problems(outcome, asins)
    if not found:
        return
    log = outcome.log.read_text(encoding="utf-8", errors="replace") if outcome.log.exists() else ""
    parts = [f"{scenario}, seed {SEED}: {len(found)} item(s) recorded against the truth"]
    for line in found:
        asin = line.partition(":")[0]
        parts.append(line)
        parts += [f"    log: {text}" for text in log.splitlines() if asin in text]
    parts.append(f"daemon output:\n{outcome.outputs}")
    raise AssertionError("\n".join(parts))


def drain(
    rows: Callable[[], list[Mapping[str, Any]]],
    evidence: Callable[[], str],
    heal: Callable[[], None] | None = None,
) -> float:
    """Wait (bounded) until no row is pending or uploading; the seconds it took. `heal`,
    if given, ends the faults after FAULT_SECONDS: a lookup backs off for as long as its
    doubt has lasted, so every doubt then settles within about as long again."""
    started = time.monotonic()
    healed = heal is None
    deadline = started + DRAIN_SECONDS
    while True:
        current = rows()
        if current and all(str(r["status"]) in FINAL for r in current):
            return time.monotonic() - started
        if not healed and time.monotonic() - started >= FAULT_SECONDS and heal is not None:
            heal()
            healed = True
        if time.monotonic() >= deadline:
            left = [f"{r['asin']} {r['status']} {r['error_message']}" for r in current]
            raise AssertionError(
                f"seed {SEED}: not every item success or failed within {DRAIN_SECONDS:g} s\n"
                + "\n".join(left)
                + evidence()
            )
        time.sleep(0.5)


def finished(rows: list[Mapping[str, Any]]) -> int:
    return sum(1 for r in rows if r["status"] in FINAL)


def kill_once_done(
    start: Callable[[], subprocess.Popen[bytes]],
    rows: Callable[[], list[Mapping[str, Any]]],
    done: int,
    evidence: Callable[[], str],
) -> None:
    """Start a daemon, and SIGKILL it as soon as `done` items are finished: mid-burst,
    mid-call, whatever it was doing."""
    daemon = start()
    wait_for(
        lambda: finished(rows()) >= done or daemon.poll() is not None,
        KILL_WAIT_SECONDS,
        f"seed {SEED}: {done} items done",
        poll=0.02,
    )
    assert daemon.poll() is None, evidence()
    daemon.kill()
    daemon.wait(timeout=10)


# ------------------------------------------------------------------ BASE sandbox


@dataclass
class Shop:
    """A work folder whose config points at a sandbox process, one shop logged in."""

    workdir: Path
    sandbox: Sandbox
    daemons: list[str] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.workdir / "logs" / f"upload_scheduler_base_{SHOP}.log"

    def daemon(self) -> subprocess.Popen[bytes]:
        """`upload-scheduler daemon --platform base --account SHOP`, as a user starts it."""
        name = f"daemon-{len(self.daemons)}"
        self.daemons.append(name)
        return spawn(self.workdir, name, "daemon", "--platform", "base", "--account", SHOP)

    def rows(self) -> list[dict[str, Any]]:
        return queue_rows(self.workdir)

    def outputs(self) -> str:
        return "\n".join(f"{n}: {spawned_output(self.workdir, n)}" for n in self.daemons)

    def outcome(self) -> Outcome:
        listed = queue_json(self.workdir, "--limit", str(ITEMS * 2))
        held = [
            Held(str(i["identifier"]), str(i["item_id"]), _images(i))
            for i in self.sandbox.items(SHOP)
        ]
        created = self.sandbox.created()
        creations = Counter({asin: n for (shop, asin), n in created.items() if shop == SHOP})
        return Outcome(
            rows_of(queue_rows(self.workdir), listed),
            held,
            creations,
            self.log,
            self.outputs(),
        )

    def heal(self) -> None:
        """No more faults from now on."""
        self.sandbox.control("odds", server_error=0, lost_response=0)

    def evidence(self) -> str:
        return f"\ndaemon output:\n{self.outputs()}"


def _images(item: Mapping[str, Any]) -> int:
    return sum(1 for n in range(1, 21) if item.get(f"img{n}_origin"))


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    """40 products with two images each, queued now for one shop of a sandbox that
    fails 30 % of API calls with a 500 and loses the answer of another 30 %."""
    workdir = tmp_path / "shop"
    workdir.mkdir()
    with sandbox_process(tmp_path / "sandbox", *SANDBOX_FAULTS, "--seed", str(SEED)) as sandbox:
        try:
            write_config(
                workdir,
                sandbox.url,
                accounts=(SHOP,),
                platform=UNSPACED,
                cluster={"lease_ttl_seconds": 3},
            )
            login_all(workdir, sandbox.url, (SHOP,))
            products = workdir / "products.csv"
            write_products(products, ITEMS, prefix="B0FAULT", images=IMAGES)
            ok(cli(workdir, "products", "import", str(products), "--account-id", SHOP))
            ok(cli(workdir, "add-to-queue", "--limit", str(ITEMS)))
            assert len(queue_rows(workdir)) == ITEMS
            yield Shop(workdir, sandbox)
        finally:
            kill_leftovers(workdir)


def test_base_under_server_errors_and_lost_answers_records_every_created_item(
    shop: Shop,
) -> None:
    asins = [str(r["asin"]) for r in shop.rows()]

    daemon = shop.daemon()
    drain(shop.rows, shop.evidence, shop.heal)
    code, _ = stop(daemon)

    judge(shop.outcome(), asins, "BASE sandbox, 30 % server errors, 30 % lost answers")
    assert code == 0, shop.evidence()


def test_base_with_kill_9_in_the_middle_records_every_created_item(shop: Shop) -> None:
    asins = [str(r["asin"]) for r in shop.rows()]

    for done in KILL_AFTER:
        kill_once_done(shop.daemon, shop.rows, done, shop.evidence)
    daemon = shop.daemon()
    drain(shop.rows, shop.evidence, shop.heal)
    code, _ = stop(daemon)

    scenario = f"BASE sandbox, 30 % server errors, 30 % lost answers, kill -9 x{len(KILL_AFTER)}"
    judge(shop.outcome(), asins, scenario)
    assert code == 0, shop.evidence()


# ------------------------------------------------------------------ fake platform


@pytest.fixture
def space(tmp_path: Path) -> Iterator[Workspace]:
    """40 products with two images each on the fake platform, failing as the sandbox
    does, plus image calls that fail."""
    url = f"fake:platform.db?latency={FAKE_LATENCY}&fail={FAKE_FAULTS}&seed={SEED}"
    with workspace(
        tmp_path, latency=FAKE_LATENCY, platform={**UNSPACED, "api_base_url": url}
    ) as made:
        try:
            yield made
        finally:
            kill_leftovers(tmp_path)


def fake_outcome(space: Workspace) -> Outcome:
    listed = ok_json(space, "check-queue", "--platform", FAKE, "--json", "--limit", str(ITEMS * 2))
    held = [
        Held(str(i["identifier"]), str(i["id"]), int(i["images"])) for i in space.platform_items()
    ]
    creations = Counter(
        str(c["identifier"]) for c in space.platform_calls("add") if c["outcome"] in CREATED_ON_FAKE
    )
    outputs = "\n".join(space.output_of(p) for p in space.processes)
    return Outcome(rows_of(space.queue(), listed), held, creations, space.log_file, outputs)


def ok_json(space: Workspace, *args: str) -> dict[str, Any]:
    """A command's JSON output, run in the workspace as a user would."""
    result = run_cli(*args, cwd=space.root)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(json.loads(result.stdout))


def fake_evidence(space: Workspace) -> Callable[[], str]:
    return lambda: "\n" + "\n".join(space.output_of(p) for p in space.processes)


def test_fake_platform_under_transient_and_lost_calls_records_every_created_item(
    space: Workspace,
) -> None:
    asins = space.queue_products(ITEMS, prefix="B0FAULT")

    daemon = space.start_daemon()
    drain(space.queue, fake_evidence(space))
    code, _ = stop(daemon)

    judge(fake_outcome(space), asins, f"fake platform, {FAKE_FAULTS}")
    assert code == 0, fake_evidence(space)()


def test_fake_platform_with_kill_9_in_the_middle_records_every_created_item(
    space: Workspace,
) -> None:
    asins = space.queue_products(ITEMS, prefix="B0FAULT")

    for done in KILL_AFTER:
        kill_once_done(space.start_daemon, space.queue, done, fake_evidence(space))
    daemon = space.start_daemon()
    drain(space.queue, fake_evidence(space))
    code, _ = stop(daemon)

    judge(fake_outcome(space), asins, f"fake platform, {FAKE_FAULTS}, kill -9 x{len(KILL_AFTER)}")
    assert code == 0, fake_evidence(space)()
