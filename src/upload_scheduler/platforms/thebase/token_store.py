"""BASE's tokens live in the platforms' shared token store (`platforms.token_store`);
this name stays for the modules that import it from here."""

from __future__ import annotations

from upload_scheduler.platforms.token_store import TokenRecord, TokenStore, tail

__all__ = ["TokenRecord", "TokenStore", "tail"]
