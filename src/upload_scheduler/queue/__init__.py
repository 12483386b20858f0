"""The upload queue."""
