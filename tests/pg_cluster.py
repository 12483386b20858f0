"""A throwaway PostgreSQL cluster from Debian's packages, for CI and for the tests that
restart the server (connection loss).

Standard library only: `.ci/run` calls it before the product is installed.

    python tests/pg_cluster.py start --dir /tmp/pg [--port N]   # prints the URL
    python tests/pg_cluster.py stop --dir /tmp/pg

PostgreSQL refuses to run as root, so as root every server command runs as the
`postgres` user (Debian's packages create it) through `runuser`.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

USER = "upload_scheduler"
PASSWORD = "upload_scheduler"
# Durability off: a test cluster trades crash safety for speed.
FAST_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=300",
    "shared_buffers=64MB",
)


def bin_dir() -> Path | None:
    """Debian installs the server outside PATH: /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _as_server_user(cmd: list[str]) -> list[str]:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class Cluster:
    """One data directory and port; owned by the server user when we are root."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = Path(directory)
        self.port = port
        found = bin_dir()
        if found is None:
            raise RuntimeError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
        self.bin = found

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        password_file = self.directory / "pwfile"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            shutil.chown(password_file, "postgres", "postgres")
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                USER,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ]
        )
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(setting.replace("=", " = ") for setting in FAST_SETTINGS) + "\n")

    def start(self, timeout: float = 60.0) -> None:
        if self.running():
            return
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory}"
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.directory / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
            ]
        )
        self._wait_for_port(timeout)

    def stop(self, mode: str = "fast") -> None:
        if not self.running():
            return
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def restart(self) -> None:
        self.stop()
        self.start()

    def running(self) -> bool:
        if not (self.data / "postmaster.pid").exists():
            return False
        status = subprocess.run(
            _as_server_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def _run(self, cmd: list[str]) -> None:
        done = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")

    def _wait_for_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not listen on 127.0.0.1:{self.port}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir, args.port or free_port())
    if args.action == "start":
        cluster.init()
        cluster.start()
        print(cluster.url)
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
