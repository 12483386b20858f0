"""Marketplace adapters, found through the `upload_scheduler.platforms` entry points."""
