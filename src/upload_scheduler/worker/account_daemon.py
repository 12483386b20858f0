"""The seed's Python API: `UploadSchedulerAccountDaemon` (upload_daemon_account.py)."""

from __future__ import annotations

import os

from upload_scheduler.config.light import load_settings_light
from upload_scheduler.config.settings import Settings
from upload_scheduler.platforms import registry
from upload_scheduler.worker.daemon import DaemonOptions, UploadDaemon
from upload_scheduler.worker.signals import stop_on_signals


class UploadSchedulerAccountDaemon:
    """One account's daemon, with the seed's constructor. Arguments given override the
    configuration for this run; those left out (None) come from the config, whose
    defaults are the seed's (60 s, 10 items, 6-23)."""

    def __init__(
        self,
        platform: str,
        account_id: str,
        interval_seconds: float | None = None,
        batch_size: int | None = None,
        business_hours_start: int | None = None,
        business_hours_end: int | None = None,
        *,
        config: Settings | str | os.PathLike[str] | None = None,
    ) -> None:
        settings = (
            config
            if isinstance(config, Settings)
            else load_settings_light(config, platforms=registry)
        )
        options = DaemonOptions(
            interval_seconds=interval_seconds,
            batch_size=batch_size,
            business_hours_start=business_hours_start,
            business_hours_end=business_hours_end,
        )
        self.daemon = UploadDaemon(settings, platform, [account_id], options=options)

    def run(self) -> None:
        """Work until stop() or Ctrl+C (a warm stop: the current item finishes)."""
        with stop_on_signals(self.daemon.stop):
            self.daemon.run()

    def stop(self) -> None:
        self.daemon.stop()
