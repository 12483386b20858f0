"""Workers: the per-account upload daemon and the platform-wide daemon."""
