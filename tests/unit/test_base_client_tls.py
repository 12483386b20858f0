"""The BASE client's TLS context: certificates and host names checked as httpx's default
does, with the CA bundle loaded only at the first handshake (a daemon on an http://
URL, such as the sandbox, never loads it: ~1 MB of its memory budget)."""

from __future__ import annotations

import ssl

import certifi
import pytest

from upload_scheduler.platforms.thebase import client


def fresh_context() -> ssl.SSLContext:
    client.ssl_context.cache_clear()
    return client.ssl_context()


def test_checks_certificates_and_host_names_like_a_default_context() -> None:
    context = fresh_context()
    reference = ssl.create_default_context(cafile=certifi.where())
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.options == reference.options
    assert context.verify_flags == reference.verify_flags
    assert context.minimum_version == reference.minimum_version


def test_loads_the_ca_bundle_at_the_first_handshake_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = fresh_context()
    assert context.cert_store_stats()["x509_ca"] == 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="api.thebase.in")
    loaded = context.cert_store_stats()["x509_ca"]
    expected = ssl.create_default_context(cafile=certifi.where()).cert_store_stats()["x509_ca"]
    assert loaded == expected > 0
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="api.thebase.in")
    assert context.cert_store_stats()["x509_ca"] == loaded  # once


def test_ssl_cert_file_replaces_the_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """As httpx does: $SSL_CERT_FILE names the CAs to trust instead of certifi's."""
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    context = fresh_context()
    calls: list[dict[str, object]] = []
    original = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, **kwargs: object) -> None:
        calls.append(kwargs)
        original(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="api.thebase.in")
    assert calls == [{"cafile": certifi.where()}]
    client.ssl_context.cache_clear()
