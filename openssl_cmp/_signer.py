"""The certificate OpenSSL's server core validated a signed request with, where OpenSSL
does not say (3.0 and 3.1 lack ``OSSL_CMP_CTX_get0_validatedSrvCert``).

The core (``check_msg_find_cert``, crypto/cmp/cmp_vfy.c) accepts a signature-protected
request when one candidate certificate

* is *acceptable*: its subject is the header's sender and, when the header has a
  senderKID, its subjectKeyIdentifier equals it;
* verifies the protection (a signature over DER(SEQUENCE{header, body}), keyUsage
  digitalSignature unless ``IGNORE_KEYUSAGE``);
* chains to the trust store, with the untrusted certificates as intermediates.

It tries the certificate it validated earlier in the transaction first, then the request's
extraCerts, then its ``untrusted`` list, then the trusted certificates themselves.  This
module replays that search after the core accepted the request, in the same order and with
the same three checks, and returns the first certificate that passes all of them.  The
protection is checked with ``OSSL_CMP_validate_msg`` on a scratch context pinned to the
candidate (OpenSSL's own signature check, every algorithm it knows), the chain with
``OSSL_CMP_validate_cert_path`` against the server's store.

Why each check is needed: a certificate that merely names the sender could be anyone's; the
extraCerts are outside the protection, so a replayed request may carry a forged certificate
with the signer's name, key identifier and public key in front (the chain check refuses
it); and one key may be certified under several names (the name check picks the one the
core used).  The cost is one signature verification and one path validation per signed
request, as the core's own; MAC-protected requests cost nothing.
"""

from __future__ import annotations

from typing import Iterator

from openssl_cmp import _bio, _der, _pbm
from openssl_cmp._asn1 import asn1_string_bytes
from openssl_cmp._typing import CData
from openssl_cmp.binding import ffi, lib
from openssl_cmp.enums import Option
from openssl_cmp.errors import OpenSSLError
from openssl_cmp.message import Message
from openssl_cmp.objects import Certificate, Name, certs_from_stack

__all__ = ["Scratch", "find"]


class Scratch:
    """A private ``OSSL_CMP_CTX`` for the checks (one per server worker, never shared
    between threads): pinned to each candidate in turn, so the worker's own context, which
    OpenSSL is in the middle of using, is only read."""

    __slots__ = ("ptr",)

    def __init__(self, libctx: CData, propq: CData) -> None:
        ptr = lib.OSSL_CMP_CTX_new(libctx, propq)
        if ptr == ffi.NULL:
            raise MemoryError("cannot allocate an OSSL_CMP_CTX")
        self.ptr: CData = ffi.gc(ptr, lib.OSSL_CMP_CTX_free)


def _signature_protected(request: Message) -> bool:
    """The header's protectionAlg is neither absent nor a MAC: a scan of the header's
    top-level fields only (this runs for every request the handlers see, MAC-protected
    ones included, so it stays cheaper than reading the whole header)."""
    ptr = request.ptr  # held while its header (a get0 pointer) is encoded
    der = _bio.i2d(lib.i2d_OSSL_CMP_PKIHEADER, lib.OSSL_CMP_MSG_get0_header(ptr),
                   "PKIHeader")
    body = _der.read_tlv(der)[0].value
    pos = 0
    for _ in range(3):  # pvno, sender, recipient
        pos = _der.read_tlv(body, pos)[1]
    while pos < len(body):
        field, pos = _der.read_tlv(body, pos)
        if field.tag == 0xA1:  # [1] protectionAlg
            oid = _pbm.protection_oid(field.value)
            return oid is not None and oid not in (_pbm.PBM_OID, _pbm.PBMAC1_OID)
        if field.tag > 0xA1:
            break
    return False


def _sender_name(fields: dict[str, object]) -> Name | None:
    """The header's sender as a Name (the core refuses any other GeneralName)."""
    sender = fields.get("sender")
    if not isinstance(sender, bytes):
        return None
    tlv = _der.single(sender)
    if tlv.tag != 0xA4:  # [4] directoryName, explicitly tagged (Name is a CHOICE)
        return None
    return Name.from_der(tlv.value)


def _acceptable(cert: Certificate, sender: Name, kid: bytes | None) -> bool:
    """The core's cert_acceptable, as far as it depends on the certificate: subject and
    key identifier (validity is left to the path validation)."""
    if cert.subject != sender:
        return False
    if kid is None:
        return True
    ptr = cert.ptr
    skid = lib.X509_get0_subject_key_id(ptr)
    return skid != ffi.NULL and asn1_string_bytes(skid) == kid


def _untrusted(ctx_ptr: CData) -> list[Certificate]:
    sk = lib.OSSL_CMP_CTX_get0_untrusted(ctx_ptr)
    return [] if sk == ffi.NULL else certs_from_stack(sk, owned=False)


def _candidates(request: Message, ctx_ptr: CData, previous: Certificate | None,
                extra: list[Certificate]) -> Iterator[Certificate]:
    """In the core's order, each certificate once."""
    seen: set[bytes] = set()

    def fresh(certs: list[Certificate]) -> Iterator[Certificate]:
        for cert in certs:
            der = cert.to_der()
            if der not in seen:
                seen.add(der)
                yield cert

    yield from fresh([previous] if previous is not None else [])
    yield from fresh(extra)
    yield from fresh(_untrusted(ctx_ptr))
    store = lib.OSSL_CMP_CTX_get0_trustedStore(ctx_ptr)
    if store != ffi.NULL:  # only read when nothing else matched: a signer trusted directly
        yield from fresh(certs_from_stack(lib.X509_STORE_get1_all_certs(store), owned=True))


def _verifies(scratch: Scratch, request: Message, cert: Certificate,
              store: CData | None) -> bool:
    """The protection of ``request`` verifies with ``cert``, and ``cert`` chains to
    ``store`` unless None (the scratch context holds the intermediates)."""
    ptr = scratch.ptr
    if lib.OSSL_CMP_CTX_set1_srvCert(ptr, cert.ptr) != 1:
        return False
    try:
        return (lib.OSSL_CMP_validate_msg(ptr, request.ptr) == 1
                and (store is None
                     or lib.OSSL_CMP_validate_cert_path(ptr, store, cert.ptr) == 1))
    finally:
        lib.OSSL_CMP_CTX_set1_srvCert(ptr, ffi.NULL)  # keep no reference to the candidate


def find(request: Message, ctx_ptr: CData, scratch: Scratch,
         previous: Certificate | None) -> Certificate | None:
    """The certificate the server core (inner context ``ctx_ptr``) validated ``request``
    with; None for a request not protected by a signature, or if none passes (the core
    then accepted it unprotected: ``accept_unprotected``).  ``previous`` is the signer the
    core validated earlier in the transaction.  Leaves the error queue as it was."""
    lib.ERR_set_mark()  # the failed candidates' errors go; what the core queued stays
    try:
        if not _signature_protected(request):
            return None
        fields = request._header()
        sender = _sender_name(fields)
        store = lib.OSSL_CMP_CTX_get0_trustedStore(ctx_ptr)
        if sender is None or store == ffi.NULL:
            return None
        kid = fields.get("sender_kid")
        extra = request.extra_certs or []
        untrusted = extra + _untrusted(ctx_ptr)
        sk = lib.sk_X509_new_null()
        if sk == ffi.NULL:
            return None
        try:  # the intermediates of the path validation: the core's (extraCerts cached)
            for cert in untrusted:
                if lib.sk_X509_push(sk, cert.ptr) <= 0:
                    return None
            if lib.OSSL_CMP_CTX_set1_untrusted(scratch.ptr, sk) != 1:
                return None
        finally:
            lib.sk_X509_free(sk)  # the scratch context took its own references
        lib.OSSL_CMP_CTX_set_option(
            scratch.ptr, Option.IGNORE_KEYUSAGE,
            lib.OSSL_CMP_CTX_get_option(ctx_ptr, Option.IGNORE_KEYUSAGE))
        try:
            for cert in _candidates(request, ctx_ptr, previous, extra):
                # the core re-checks its cached certificate without its path (validated
                # earlier in the transaction), and so does this
                if _acceptable(cert, sender, kid) and _verifies(
                        scratch, request, cert, None if cert is previous else store):
                    return cert
            return None
        finally:
            lib.OSSL_CMP_CTX_set1_untrusted(scratch.ptr, ffi.NULL)
    except (ValueError, OpenSSLError):  # the core parsed the request: not expected
        return None
    finally:
        lib.ERR_pop_to_mark()
