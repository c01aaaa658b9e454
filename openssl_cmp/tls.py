"""``TLS``: the TLS settings of a CMP client (``ctx.tls``) or of ``serve_http(tls=…)``.

The fields are those of ``openssl cmp -tls_trusted -tls_cert -tls_key -tls_extra -tls_host``.
The client side runs inside OpenSSL's own HTTP client: an ``SSL_CTX`` built here from these
settings, and a C callback (``ocmp_tls_http_cb``, compiled into the binding) that pushes an
SSL BIO onto every connection OpenSSL opens, so the handshake, the certificate verification
and the host name check happen in the same libssl/libcrypto that does the CMP work.  The
server side (``serve_http``) uses Python's :mod:`ssl` module, which on the supported systems
is linked against the same OpenSSL; :meth:`TLS.server_context` builds its ``SSLContext``.

Security defaults, always on: the peer certificate is verified (the system's trust store
when ``trusted`` is None), the server's name is checked against ``host`` (or the host of
the URL), TLS 1.2 is the minimum version, and SNI is sent for DNS names.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import ssl
import tempfile
import threading
from typing import Any, Iterable, Sequence, cast

from openssl_cmp._bio import check_instance
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import quiet_read, raise_openssl
from openssl_cmp.keys import PrivateKey
from openssl_cmp.objects import Certificate, TrustStore

__all__ = ["TLS"]

# OpenSSL's SSL_CTX_free; the SSL_CTX built for a client is owned through ffi.gc.
_MAX_HOST = 255  # bytes of a DNS name (RFC 1035); the C info struct has room for it


def _as_trust(trusted: Any) -> TrustStore | None:
    if trusted is None or isinstance(trusted, TrustStore):
        return trusted
    if isinstance(trusted, Certificate):
        return TrustStore([trusted])
    if isinstance(trusted, (list, tuple)):
        return TrustStore(trusted)
    raise TypeError("trusted must be a TrustStore, a Certificate, a list of Certificates "
                    "or None, not %s" % type(trusted).__name__)


class TLS:
    """TLS settings: ``TLS(trusted=None, cert=None, key=None, extra_certs=(), host=None)``.

    - ``trusted``: the trust anchors that verify the peer (a :class:`TrustStore`, a
      :class:`Certificate` or a list of them); ``None`` means the system's default trust
      store for a client, and *no client authentication* for a server.  On a server a
      ``trusted`` store makes client certificates required and verified.
    - ``cert``, ``key``: our own certificate and private key (both or neither); required for
      a server, optional (TLS client authentication) for a client.
    - ``extra_certs``: intermediate certificates sent with ``cert``.
    - ``host``: the name (or IP address) the server certificate must match; ``None`` means
      the host of the URL.  A client only.

    A ``TLS`` is immutable; make a new one to change a setting.
    """

    __slots__ = ("_trusted", "_cert", "_key", "_extra", "_host", "_clients", "_lock")

    def __init__(self, trusted: TrustStore | Certificate | Sequence[Certificate] | None = None,
                 cert: Certificate | None = None, key: PrivateKey | None = None,
                 extra_certs: Iterable[Certificate] = (), host: str | None = None) -> None:
        store = _as_trust(trusted)
        check_instance(cert, Certificate, "cert", allow_none=True)
        check_instance(key, PrivateKey, "key", allow_none=True)
        if isinstance(extra_certs, (str, bytes, Certificate)):
            raise TypeError("extra_certs must be an iterable of Certificates")
        extra = list(extra_certs)
        for c in extra:
            check_instance(c, Certificate, "extra certificate")
        if (cert is None) != (key is None):
            raise ValueError("TLS needs both cert and key, or neither")
        if host is not None:
            if not isinstance(host, str):
                raise TypeError("host must be str or None")
            if not host or len(host.encode("utf-8")) > _MAX_HOST or "\0" in host:
                raise ValueError("host must be a DNS name or an IP address of at most "
                                 "255 bytes, not %r" % host)
        # our own references: the caller may close what it passed
        self._trusted = store
        self._cert = None if cert is None else cert.copy()
        self._key = None if key is None else key.copy()
        self._extra = [c.copy() for c in extra]
        self._host = host
        self._clients: dict[tuple[Any, str | None], tuple[Any, Any]] = {}
        self._lock = threading.Lock()
        if cert is not None and key is not None:
            if cert.public_key() != key.public_key():
                raise ValueError("the TLS key does not match the TLS certificate")

    # -- read access ------------------------------------------------------------------------
    @property
    def trusted(self) -> TrustStore | None:
        """The trust anchors (None: system default for a client, no client auth for a
        server)."""
        return self._trusted

    @property
    def cert(self) -> Certificate | None:
        """Our certificate (None when not authenticating)."""
        return None if self._cert is None else self._cert.copy()

    @property
    def key(self) -> PrivateKey | None:
        """Our private key (None when not authenticating)."""
        return None if self._key is None else self._key.copy()

    @property
    def extra_certs(self) -> list[Certificate]:
        """Intermediate certificates sent with ``cert``."""
        return [c.copy() for c in self._extra]

    @property
    def host(self) -> str | None:
        """The name the server certificate must match (None: the URL's host)."""
        return self._host

    def __repr__(self) -> str:
        # the C reads inside a quiet probe: the error queue is left as it was
        detail = quiet_read(self._repr_detail)
        return "TLS(%s)" % ("?" if detail is None else detail)

    def _repr_detail(self) -> str:
        parts = []
        if self._trusted is not None:
            parts.append("trusted=<%d certs>" % len(self._trusted))
        if self._cert is not None:
            parts.append("cert=%s" % self._cert.subject)
        if self._extra:
            parts.append("extra_certs=<%d>" % len(self._extra))
        if self._host is not None:
            parts.append("host=%r" % self._host)
        return ", ".join(parts)

    # -- client: an SSL_CTX for OpenSSL's HTTP client ----------------------------------------
    @property
    def resumptions(self) -> int:
        """Client handshakes made with these settings that resumed an earlier TLS session
        (instead of a full handshake with certificate verification)."""
        return sum(lib.ocmp_tls_cache_resumptions(cache) for _ctx, cache in
                   list(self._clients.values()))

    def _client(self, libctx: Any = None, propq: str | None = None) -> tuple[Any, Any]:
        """``(SSL_CTX *, ocmp_tls_cache *)`` for the client side, shared by every Context
        that uses these settings with this library context: one SSL_CTX (thread-safe for
        new connections) and one resumable session, so a fresh Context per enrollment
        resumes the last session instead of a full handshake."""
        key = (libctx, propq)
        with self._lock:
            pair = self._clients.get(key)
            if pair is None:
                cache = lib.ocmp_tls_cache_new()
                if cache == ffi.NULL:
                    raise_openssl("cannot allocate a TLS session cache")
                cache = ffi.gc(cache, lib.ocmp_tls_cache_free)
                pair = self._clients[key] = (self._client_ssl_ctx(libctx, propq), cache)
            return pair

    def _client_ssl_ctx(self, libctx: Any = None, propq: str | None = None) -> Any:
        """A new ``SSL_CTX *`` (owned through ffi.gc) for the client side.  Reached from
        the ``Context.tls`` setter, which has cleared the queue (``Boundary.begin``)."""
        propq_c = ffi.NULL if propq is None else propq.encode("utf-8")
        ptr = lib.SSL_CTX_new_ex(ffi.NULL if libctx is None else libctx, propq_c,
                                 lib.TLS_client_method())
        if ptr == ffi.NULL:
            raise_openssl("cannot create a TLS context")
        ssl_ctx = ffi.gc(ptr, lib.SSL_CTX_free)
        ok = lib.SSL_CTX_set_min_proto_version(ptr, lib.TLS1_2_VERSION) == 1
        lib.SSL_CTX_set_verify(ptr, lib.SSL_VERIFY_PEER, ffi.NULL)
        trusted = self._trusted
        if ok and trusted is None:
            ok = lib.SSL_CTX_set_default_verify_paths(ptr) == 1
        elif ok and trusted is not None:
            # set1: the SSL_CTX takes its own reference; later additions are seen
            lib.SSL_CTX_set1_cert_store(ptr, trusted.ptr)
        if ok and self._cert is not None:
            ok = (lib.SSL_CTX_use_certificate(ptr, self._cert.ptr) == 1
                  and lib.SSL_CTX_use_PrivateKey(ptr, cast(PrivateKey, self._key).ptr) == 1
                  and lib.SSL_CTX_check_private_key(ptr) == 1)
            for extra in self._extra:
                ok = ok and lib.SSL_CTX_add1_chain_cert(ptr, extra.ptr) == 1
        if not ok:
            raise_openssl("cannot set up the TLS client context")
        return ssl_ctx

    # -- server: an ssl.SSLContext for serve_http -------------------------------------------
    def server_context(self) -> ssl.SSLContext:
        """An :class:`ssl.SSLContext` for a server with these settings: ``cert``/``key`` (and
        ``extra_certs``) as the server's chain, and, when ``trusted`` is set, client
        certificates required and verified against it."""
        if self._cert is None or self._key is None:
            raise ValueError("a TLS server needs cert and key")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # One TLS 1.3 session ticket per handshake (OpenSSL's default is two): a CMP client
        # resumes at most the latest, and each ticket costs the server an encryption and
        # the client a session object on every connection.
        context.num_tickets = 1
        # ssl.SSLContext.load_cert_chain reads files only (no in-memory key loading in the
        # standard library): the key goes into a private temporary file encrypted with a
        # one-time password, so no plaintext key ever touches the disk.
        password = secrets.token_urlsafe(32)
        chain = self._cert.to_pem() + b"".join(c.to_pem() for c in self._extra)
        pem = chain + self._key.to_pem(password=password.encode())
        fd, path = tempfile.mkstemp(prefix="openssl_cmp-tls-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            context.load_cert_chain(path, password=password)
        finally:
            os.unlink(path)
        if self._trusted is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            cadata = "".join(c.to_pem().decode("ascii") for c in self._trusted.certs)
            if not cadata:
                raise ValueError("TLS trusted store is empty: no client could be verified")
            context.load_verify_locations(cadata=cadata)
        return context


def host_is_ip(host: str) -> bool:
    """True when ``host`` is an IPv4 or IPv6 literal (checked as an IP SAN, no SNI)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
