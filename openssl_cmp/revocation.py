"""Revocation checking of certificates a ``TrustStore`` verifies (the CMP server's, above
all): CRLs fetched from the certificate's CRL distribution point, and OCSP (RFC 6960).

A :class:`RevocationCheck` says where revocation information comes from; it is attached to
a store with ``TrustStore(..., revocation=RevocationCheck(...))`` or
``store.revocation = ...``.  CRLs given to the store (``TrustStore(crls=...)``,
``add_crl``) are always used; ``use_cdp`` adds the CRL named by each certificate's
crlDistributionPoints (HTTP only, fetched with ``timeout`` and ``max_size`` limits and
cached until its nextUpdate); ``ocsp``/``ocsp_url`` ask an OCSP responder about the leaf
(the server's certificate).  Without ``fail_open`` a certificate whose status cannot be
established is refused.

How it reaches C: the store keeps a small integer key in its ``ex_data`` (see
``_cffi_src/x509_verify.py``); the key finds the Python state here.  OpenSSL calls
``ocmp_revocation_lookup_crls_cb`` for the CRLs of a certificate (store CRLs first, then
the distribution point's) and, through the store's C verify callback,
``ocmp_revocation_verify_cb`` once per certificate (OCSP for the leaf; fail-open).  Both are
``extern "Python"`` trampolines that catch everything and fail closed.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
import itertools
import threading
import time
import urllib.parse
from typing import Callable

from openssl_cmp._asn1 import asn1_time
from openssl_cmp._typing import CData
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import probe

__all__ = ["RevocationCheck"]

_DEFAULT_MAX_SIZE = 10 << 20  # 10 MiB: a large CA's full CRL, not an endless stream
_OCSP_LEEWAY = 300  # seconds of clock skew accepted in OCSP thisUpdate/nextUpdate


class RevocationCheck:
    """Where a ``TrustStore`` gets revocation information beyond the CRLs it holds.

    ``RevocationCheck(*, use_cdp=False, ocsp=False, ocsp_url=None, timeout=10.0,
    max_size=10 MiB, fail_open=False)``

    * ``use_cdp``: fetch the CRL named by a certificate's crlDistributionPoints (an
      ``http://`` URI) when the store has none for it; turns on CRL checking of the leaf
      (``check_crls="leaf"``) unless the store checks more already.  Fetched CRLs are
      cached until their nextUpdate (one without nextUpdate is fetched each time).
    * ``ocsp``: ask the OCSP responder named in the leaf certificate's authorityInfoAccess;
      ``ocsp_url`` (``http://...``) asks that responder instead (implies ``ocsp``).  The
      answer must be signed by the issuer or by a responder it authorised, verified against
      the store's certificates.  Like genCMPClient, OCSP checks the leaf only.
    * ``timeout`` (seconds, per fetch, whole transfer) and ``max_size`` (bytes, per answer)
      bound every network access.
    * ``fail_open``: accept a certificate whose status cannot be established (no CRL, the
      responder unreachable, status "unknown"); a certificate known to be revoked is refused
      all the same.  Default: refuse (fail closed).

    ``last_error`` holds the reason of the latest failure to establish a status, or None.
    """

    __slots__ = ("_use_cdp", "_ocsp", "_ocsp_url", "_timeout", "_max_size", "_fail_open",
                 "_lock", "_crl_cache", "_ocsp_cache", "last_error")

    def __init__(self, *, use_cdp: bool = False, ocsp: bool = False,
                 ocsp_url: str | None = None, timeout: float = 10.0,
                 max_size: int = _DEFAULT_MAX_SIZE, fail_open: bool = False) -> None:
        for name, value in (("use_cdp", use_cdp), ("ocsp", ocsp), ("fail_open", fail_open)):
            if not isinstance(value, bool):
                raise TypeError("%s must be bool, not %s" % (name, type(value).__name__))
        if ocsp_url is not None:
            _check_http_url(ocsp_url, "ocsp_url")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("timeout must be a number of seconds")
        if not 0 < timeout <= 3600:
            raise ValueError("timeout must be > 0 and at most 3600 seconds")
        if isinstance(max_size, bool) or not isinstance(max_size, int):
            raise TypeError("max_size must be int")
        if not 0 < max_size <= 1 << 30:
            raise ValueError("max_size must be > 0 and at most 1 GiB")
        if not (use_cdp or ocsp or ocsp_url):
            raise ValueError("a RevocationCheck needs use_cdp, ocsp or ocsp_url (static CRLs "
                             "go to TrustStore(crls=...))")
        self._use_cdp = use_cdp
        self._ocsp = ocsp or ocsp_url is not None
        self._ocsp_url = ocsp_url
        self._timeout = float(timeout)
        self._max_size = max_size
        self._fail_open = fail_open
        self._lock = threading.Lock()
        # url -> (owned X509_CRL *, expiry); cert digest -> (status, expiry)
        self._crl_cache: dict[str, tuple[CData, datetime.datetime]] = {}
        self._ocsp_cache: dict[bytes, tuple[int, datetime.datetime]] = {}
        self.last_error: str | None = None

    @property
    def use_cdp(self) -> bool:
        """Fetch CRLs from the crlDistributionPoints."""
        return self._use_cdp

    @property
    def ocsp(self) -> bool:
        """Check the leaf certificate with OCSP."""
        return self._ocsp

    @property
    def ocsp_url(self) -> str | None:
        """The OCSP responder asked instead of the certificate's own, or None."""
        return self._ocsp_url

    @property
    def timeout(self) -> float:
        """Seconds each fetch may take, all of it."""
        return self._timeout

    @property
    def max_size(self) -> int:
        """Bytes each answer may have."""
        return self._max_size

    @property
    def fail_open(self) -> bool:
        """Accept a certificate whose status cannot be established."""
        return self._fail_open

    def clear_cache(self) -> None:
        """Forget the fetched CRLs and OCSP answers."""
        with self._lock:
            self._crl_cache.clear()
            self._ocsp_cache.clear()

    def __repr__(self) -> str:
        parts = [name for name in ("use_cdp", "ocsp", "fail_open") if getattr(self, name)]
        if self._ocsp_url:
            parts.append("ocsp_url=%r" % self._ocsp_url)
        return "<RevocationCheck %s timeout=%gs max_size=%d>" % (
            " ".join(parts), self._timeout, self._max_size)

    # -- CRLs from the distribution point ------------------------------------------------
    def _fail(self, text: str) -> None:
        self.last_error = text
        _note_detail(text)

    def _crl_for(self, url: str) -> CData | None:
        """An up-ref'd ``X509_CRL *`` from ``url`` (cache or network), or None."""
        now = datetime.datetime.now(datetime.timezone.utc)
        with self._lock:
            cached = self._crl_cache.get(url)
            if cached is not None and cached[1] > now:
                lib.X509_CRL_up_ref(cached[0])
                return cached[0]
        try:
            data = _http_fetch(url, self._timeout, self._max_size)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            self._fail("CRL fetch from %s failed: %s" % (url, exc or type(exc).__name__))
            return None
        with probe():  # a malformed CRL is an answer ("none"), not an error
            crl = _d2i_crl(data)
        if crl is None:
            self._fail("CRL from %s is not a DER or PEM CRL" % url)
            return None
        owned = ffi.gc(crl, lib.X509_CRL_free)
        next_update = lib.X509_CRL_get0_nextUpdate(crl)
        if next_update != ffi.NULL:
            expiry = asn1_time(next_update)
            if expiry > now:
                with self._lock:
                    self._crl_cache[url] = (owned, expiry)
        lib.X509_CRL_up_ref(crl)
        return crl

    def _lookup_crls(self, ctx: CData, name: CData) -> CData:
        """What ``ocmp_revocation_lookup_crls_cb`` returns: the store's CRLs by ``name``, plus
        (when none is there) the current certificate's distribution point CRLs."""
        with probe():  # "no CRL in the store" queues nothing useful
            sk = lib.X509_STORE_CTX_get1_crls(ctx, name)
        if sk == ffi.NULL:
            sk = lib.sk_X509_CRL_new_null()
            if sk == ffi.NULL:
                return ffi.NULL
        if lib.sk_X509_CRL_num(sk) > 0 or not self._use_cdp:
            return sk
        cert = lib.X509_STORE_CTX_get_current_cert(ctx)
        if cert == ffi.NULL:
            return sk
        urls = list(_crldp_uris(cert))
        if not urls:
            self._fail("the certificate names no http:// CRL distribution point")
        for url in urls:
            crl = self._crl_for(url)
            if crl is None:
                continue
            if lib.X509_NAME_cmp(lib.X509_CRL_get_issuer(crl), name) != 0 \
                    or lib.sk_X509_CRL_push(sk, crl) <= 0:
                lib.X509_CRL_free(crl)  # another issuer's CRL: OpenSSL would not use it
                continue
            break
        return sk

    # -- OCSP ----------------------------------------------------------------------------
    def _ocsp_verify(self, ok: int, ctx: CData) -> int:
        """What ``ocmp_revocation_verify_cb`` returns."""
        error = lib.X509_STORE_CTX_get_error(ctx)
        if not ok:
            if self._fail_open and error == lib.X509_V_ERR_UNABLE_TO_GET_CRL:
                return 1
            return 0
        if not self._ocsp or lib.X509_STORE_CTX_get_error_depth(ctx) != 0 \
                or getattr(_local, "in_ocsp", False):
            return ok
        chain = lib.X509_STORE_CTX_get0_chain(ctx)
        if chain == ffi.NULL or lib.sk_X509_num(chain) < 2:
            return ok  # the leaf is itself a trust anchor: there is no issuer to ask about
        cert, issuer = lib.sk_X509_value(chain, 0), lib.sk_X509_value(chain, 1)
        _local.in_ocsp = True
        try:
            status = self._ocsp_status(cert, issuer, chain,
                                       lib.X509_STORE_CTX_get0_store(ctx))
        finally:
            _local.in_ocsp = False
        if status == lib.V_OCSP_CERTSTATUS_GOOD:
            return 1
        if status == lib.V_OCSP_CERTSTATUS_REVOKED:
            lib.X509_STORE_CTX_set_error(ctx, lib.X509_V_ERR_CERT_REVOKED)
            return 0
        if self._fail_open:
            return 1
        lib.X509_STORE_CTX_set_error(ctx, lib.X509_V_ERR_OCSP_CERT_UNKNOWN
                                     if status == lib.V_OCSP_CERTSTATUS_UNKNOWN
                                     else lib.X509_V_ERR_OCSP_VERIFY_FAILED)
        return 0

    def _ocsp_status(self, cert: CData, issuer: CData, chain: CData, store: CData) -> int:
        """V_OCSP_CERTSTATUS_* of ``cert``, or -1 when no valid answer was obtained."""
        key = _cert_digest(cert)
        now = datetime.datetime.now(datetime.timezone.utc)
        with self._lock:
            cached = self._ocsp_cache.get(key)
            if cached is not None and cached[1] > now:
                return cached[0]
        url = self._ocsp_url or _aia_ocsp_uri(cert)
        if url is None:
            self._fail("the certificate names no OCSP responder (authorityInfoAccess) and "
                       "no ocsp_url is set")
            return -1
        with probe():  # every OpenSSL failure below is an answer ("no status")
            result = self._ocsp_query(url, cert, issuer, chain, store)
        if isinstance(result, str):
            self._fail("OCSP (%s): %s" % (url, result))
            return -1
        status, next_update = result
        if next_update is not None and status != lib.V_OCSP_CERTSTATUS_UNKNOWN:
            with self._lock:
                self._ocsp_cache[key] = (status, next_update)
        if status == lib.V_OCSP_CERTSTATUS_UNKNOWN:
            self._fail("OCSP (%s): the responder does not know the certificate" % url)
        return status

    def _ocsp_query(self, url: str, cert: CData, issuer: CData, chain: CData,
                    store: CData) -> tuple[int, datetime.datetime | None] | str:
        """Ask ``url``: (status, nextUpdate) or the reason there is no answer."""
        req = ffi.gc(lib.OCSP_REQUEST_new(), lib.OCSP_REQUEST_free)
        cid = lib.OCSP_cert_to_id(ffi.NULL, cert, issuer)
        if req == ffi.NULL or cid == ffi.NULL:
            lib.OCSP_CERTID_free(cid)
            return "cannot build the request"
        if lib.OCSP_request_add0_id(req, cid) == ffi.NULL:
            lib.OCSP_CERTID_free(cid)
            return "cannot build the request"
        if lib.OCSP_request_add1_nonce(req, ffi.NULL, -1) != 1:
            return "cannot add a nonce"
        der = _i2d(lib.i2d_OCSP_REQUEST, req)
        if der is None:
            return "cannot encode the request"
        try:
            data = _http_fetch(url, self._timeout, self._max_size, body=der,
                               content_type="application/ocsp-request")
        except (OSError, ValueError, http.client.HTTPException) as exc:
            return "request failed: %s" % (exc or type(exc).__name__)
        buf = ffi.from_buffer(data)
        pp = ffi.new("const unsigned char **", ffi.cast("const unsigned char *", buf))
        resp = lib.d2i_OCSP_RESPONSE(ffi.NULL, pp, len(data))
        if resp == ffi.NULL:
            return "the answer is not an OCSP response"
        resp = ffi.gc(resp, lib.OCSP_RESPONSE_free)
        rstatus = lib.OCSP_response_status(resp)
        if rstatus != lib.OCSP_RESPONSE_STATUS_SUCCESSFUL:
            return "responder says %s" % ffi.string(
                lib.OCSP_response_status_str(rstatus)).decode()
        basic = lib.OCSP_response_get1_basic(resp)
        if basic == ffi.NULL:
            return "no basic response"
        basic = ffi.gc(basic, lib.OCSP_BASICRESP_free)
        if lib.OCSP_check_nonce(req, basic) == 0:
            return "the response's nonce does not match the request's"
        # the store's own callbacks (this check included) must not run on the responder's
        # certificate: verify with a plain store holding the same certificates
        if not _ocsp_signature_ok(basic, chain, store):
            return "the response's signature or signer does not verify"
        cid = lib.OCSP_cert_to_id(ffi.NULL, cert, issuer)
        if cid == ffi.NULL:
            return "cannot build the certificate ID"
        cid = ffi.gc(cid, lib.OCSP_CERTID_free)
        status, reason = ffi.new("int *"), ffi.new("int *")
        this_upd = ffi.new("ASN1_GENERALIZEDTIME **")
        next_upd = ffi.new("ASN1_GENERALIZEDTIME **")
        if lib.OCSP_resp_find_status(basic, cid, status, reason, ffi.NULL, this_upd,
                                     next_upd) != 1:
            return "the response does not cover the certificate"
        if lib.OCSP_check_validity(this_upd[0], next_upd[0], _OCSP_LEEWAY, -1) != 1:
            return "the response is outside its validity period"
        nxt = None if next_upd[0] == ffi.NULL else asn1_time(next_upd[0])
        return int(status[0]), nxt


# -- the store registry ----------------------------------------------------------------------

_index = lib.ocmp_verify_state_index()
_registry_lock = threading.Lock()
_keys = itertools.count(1)


class StoreState:
    """Python-side settings of one ``X509_STORE`` (reached from C by its ex_data key):
    the purpose name (OpenSSL 3.0 has no getter) and the revocation check."""

    __slots__ = ("purpose", "revocation")

    def __init__(self) -> None:
        self.purpose: str | None = None
        self.revocation: RevocationCheck | None = None


_states: dict[int, StoreState] = {}
_local = threading.local()  # .in_ocsp; .detail: the latest revocation failure's reason


def store_state(store: CData, create: bool = False) -> StoreState | None:
    """The state of ``store`` (an ``X509_STORE *``), made when ``create``."""
    raw = int(ffi.cast("uintptr_t", lib.X509_STORE_get_ex_data(store, _index)))
    with _registry_lock:
        state = _states.get(raw >> 1)
        if state is None and create:
            state = StoreState()
            key = next(_keys)
            _states[key] = state
            if lib.X509_STORE_set_ex_data(store, _index, ffi.cast("void *", key << 1)) != 1:
                del _states[key]
                raise MemoryError("cannot attach state to the trust store")
    return state


def update_store(store: CData, state: StoreState) -> None:
    """Apply ``state`` to the C store: the lookup callback, and the key's low bit (the
    verify callback calls Python only when a revocation check needs it)."""
    check = state.revocation
    raw = int(ffi.cast("uintptr_t", lib.X509_STORE_get_ex_data(store, _index)))
    key = raw >> 1
    if key == 0:
        return
    lib.X509_STORE_set_ex_data(store, _index, ffi.cast("void *", key << 1 | (check is not None)))
    lookup = ffi.addressof(lib, "ocmp_revocation_lookup_crls_cb") \
        if check is not None and check.use_cdp else ffi.NULL
    lib.X509_STORE_set_lookup_crls(store, lookup)


def take_detail() -> str | None:
    """The reason of this thread's latest failure to establish a revocation status (a CRL
    that could not be fetched, an OCSP error), forgotten once read."""
    detail = getattr(_local, "detail", None)
    _local.detail = None
    return detail


def _note_detail(text: str) -> None:
    _local.detail = text


def _check_of(ctx: CData) -> RevocationCheck | None:
    state = store_state(lib.X509_STORE_CTX_get0_store(ctx))
    return None if state is None else state.revocation


@ffi.def_extern(name="ocmp_revocation_verify_cb")
def _verify_cb(ok: int, ctx: CData) -> int:
    try:
        check = _check_of(ctx)
        if check is None:
            return ok
        return check._ocsp_verify(ok, ctx)
    except BaseException as exc:  # never into C: fail closed, say why
        _note_detail("revocation check failed: %r" % exc)
        lib.X509_STORE_CTX_set_error(ctx, lib.X509_V_ERR_UNSPECIFIED)
        return 0


@ffi.def_extern(name="ocmp_revocation_lookup_crls_cb")
def _lookup_crls_cb(ctx: CData, name: CData) -> CData:
    try:
        check = _check_of(ctx)
        if check is None:
            with probe():
                return lib.X509_STORE_CTX_get1_crls(ctx, name)
        return check._lookup_crls(ctx, name)
    except BaseException as exc:  # no CRL: OpenSSL then refuses the certificate
        _note_detail("CRL lookup failed: %r" % exc)
        return ffi.NULL


@ffi.def_extern(name="ocmp_revocation_free_cb")
def _free_cb(key: CData) -> None:
    try:
        with _registry_lock:
            _states.pop(int(ffi.cast("uintptr_t", key)) >> 1, None)
    except BaseException:  # a store freed at interpreter exit: nothing left to drop
        pass


# -- helpers ---------------------------------------------------------------------------------

def _check_http_url(url: object, what: str) -> str:
    if not isinstance(url, str):
        raise TypeError("%s must be str, not %s" % (what, type(url).__name__))
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("%s must be an http:// URL with a host, not %r" % (what, url))
    if any(c in url for c in "\r\n\0 "):
        raise ValueError("%s must not contain spaces or control characters" % what)
    return url


def _http_fetch(url: str, timeout: float, max_size: int, body: bytes | None = None,
                content_type: str | None = None) -> bytes:
    """GET (or POST ``body``) ``url``: the answer's body, at most ``max_size`` bytes, all of
    it within ``timeout`` seconds; no redirects (RFC 5280 §4.2.1.13 URIs name the CRL
    itself)."""
    _check_http_url(url, "URL")
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out after %g s" % timeout)
        return left

    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80,
                                      timeout=remaining())
    try:
        path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        headers = {"Connection": "close"}
        if content_type:
            headers["Content-Type"] = content_type
        conn.request("POST" if body is not None else "GET", path, body=body, headers=headers)
        # the socket itself: http.client drops conn.sock when the answer closes the
        # connection, the response keeps reading from it
        sock = conn.sock
        assert sock is not None
        sock.settimeout(remaining())
        resp = conn.getresponse()
        if resp.status != 200:
            raise ValueError("HTTP status %d %s" % (resp.status, resp.reason))
        length = resp.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > max_size:
            raise ValueError("answer of %s bytes exceeds max_size %d" % (length, max_size))
        chunks: list[bytes] = []
        size = 0
        # http.client closes the socket once the body is complete (Python 3.13 at the
        # read that ends it): then there is nothing left to time out
        while not resp.isclosed():
            sock.settimeout(remaining())
            chunk = resp.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > max_size:
                raise ValueError("answer exceeds max_size %d" % max_size)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        conn.close()


def _d2i_crl(data: bytes) -> CData | None:
    """An owned ``X509_CRL *`` from DER or PEM bytes, or None."""
    if data.lstrip().startswith(b"-----BEGIN"):
        bio = lib.BIO_new_mem_buf(data, len(data))
        if bio == ffi.NULL:
            return None
        try:
            crl = lib.PEM_read_bio_X509_CRL(bio, ffi.NULL, ffi.NULL, ffi.NULL)
        finally:
            lib.BIO_free(bio)
    else:
        buf = ffi.from_buffer(data)
        pp = ffi.new("const unsigned char **", ffi.cast("const unsigned char *", buf))
        crl = lib.d2i_X509_CRL(ffi.NULL, pp, len(data))
    return None if crl == ffi.NULL else crl


def _i2d(i2d: Callable[[CData, CData], int], ptr: CData) -> bytes | None:
    out = ffi.new("unsigned char **")
    n = i2d(ptr, out)
    if n <= 0:
        return None
    try:
        return ffi.buffer(out[0], n)[:]
    finally:
        lib.OPENSSL_free(out[0])


def _cert_digest(cert: CData) -> bytes:
    der = _i2d(lib.i2d_X509, cert)
    return hashlib.sha256(der or b"").digest()


def _crldp_uris(cert: CData) -> list[str]:
    """The certificate's http:// CRL distribution point URIs, in order."""
    uris = []
    for i in itertools.count():
        raw = lib.ocmp_crldp_uri(cert, i)
        if raw == ffi.NULL:
            break
        try:
            text = ffi.string(raw).decode("ascii", "replace")
        finally:
            lib.OPENSSL_free(raw)
        if text.lower().startswith("http://"):
            uris.append(text)
    return uris


def _aia_ocsp_uri(cert: CData) -> str | None:
    """The first http:// OCSP responder of the certificate's authorityInfoAccess."""
    with probe():
        sk = lib.X509_get1_ocsp(cert)
    if sk == ffi.NULL:
        return None
    try:
        for i in range(lib.sk_OPENSSL_STRING_num(sk)):
            text = ffi.string(lib.sk_OPENSSL_STRING_value(sk, i)).decode("ascii", "replace")
            if text.lower().startswith("http://"):
                return text
    finally:
        lib.X509_email_free(sk)
    return None


def _ocsp_signature_ok(basic: CData, chain: CData, store: CData) -> bool:
    """OCSP_basic_verify against a plain copy of ``store``'s certificates (same flags minus
    CRL checking), the chain as untrusted helpers."""
    plain = lib.X509_STORE_new()
    if plain == ffi.NULL:
        return False
    try:
        certs = lib.X509_STORE_get1_all_certs(store)
        if certs == ffi.NULL:
            return False
        try:
            for i in range(lib.sk_X509_num(certs)):
                if lib.X509_STORE_add_cert(plain, lib.sk_X509_value(certs, i)) != 1:
                    return False
        finally:
            lib.sk_X509_pop_free(certs, ffi.addressof(lib, "X509_free"))
        param = lib.X509_STORE_get0_param(plain)
        if lib.X509_VERIFY_PARAM_set1(param, lib.X509_STORE_get0_param(store)) != 1:
            return False
        lib.X509_VERIFY_PARAM_clear_flags(
            param, lib.X509_V_FLAG_CRL_CHECK | lib.X509_V_FLAG_CRL_CHECK_ALL)
        return bool(lib.OCSP_basic_verify(basic, chain, plain, 0) > 0)
    finally:
        lib.X509_STORE_free(plain)
