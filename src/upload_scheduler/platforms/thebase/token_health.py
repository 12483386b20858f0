"""What `token status` says about a BASE shop: the platforms' shared assessment
(`platforms.token_health`); this name stays for the modules that import it from here."""

from __future__ import annotations

from upload_scheduler.platforms.token_health import (
    LOGIN_REQUIRED,
    OK,
    WARNING,
    TokenHealth,
    assess,
)

__all__ = ["LOGIN_REQUIRED", "OK", "WARNING", "TokenHealth", "assess"]
