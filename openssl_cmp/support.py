"""Client support operations (RFC 9483 §4.3) on every linked OpenSSL.

Each operation is one GENM transaction asking for one info type, whose answer is checked
the way OpenSSL checks it.  Where the linked OpenSSL has the operation
(``OSSL_CMP_get1_caCerts`` and ``OSSL_CMP_get1_rootCaKeyUpdate`` since 3.2,
``OSSL_CMP_get1_certReqTemplate`` and ``OSSL_CMP_get1_crlUpdate`` since 3.4) it runs; on
older releases the same request is sent with the generic ``OSSL_CMP_exec_GENM_ses``, the
answer decoded with :mod:`openssl_cmp.itavs`, and the same checks made here (OpenSSL's
``cmp_genm.c`` is the model):

* the context must be fresh (status unspecified: call ``reinit()`` between transactions),
  else :class:`CMPError`, as OpenSSL's ``CMP_R_UNCLEAN_CTX``;
* the first ITAV of the expected type is used; a GENP without one is a :class:`CMPError`;
* caCerts: every certificate must be a CA certificate within its validity period;
* rootCaKeyUpdate: newWithNew must be self-signed and chain, through newWithOld, to the old
  root (``old_root``, else the context's trust store); oldWithNew, when present with
  ``old_root``, must chain the old root to newWithNew;
* crls: at most one CRL.

Use them as :class:`~openssl_cmp.Context` methods: ``ctx.get_ca_certs()``,
``ctx.get_root_ca_key_update(old_root)``, ``ctx.get_cert_req_template()``,
``ctx.get_crl_update(cert, old_crl)``.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable

from openssl_cmp import _bio, _der, itavs
from openssl_cmp._bio import check_instance
from openssl_cmp._boundary import boundary_of
from openssl_cmp._typing import CData
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import CMPError
from openssl_cmp.itavs import CertReqTemplate, CRLStatus, RootCaKeyUpdate
from openssl_cmp.message import ITAV
from openssl_cmp.objects import CRL, Certificate, GeneralName

if TYPE_CHECKING:
    from openssl_cmp.context import Context

__all__ = ["get_ca_certs", "get_root_ca_key_update", "get_cert_req_template",
           "get_crl_update"]

logger: logging.Logger = logging.getLogger("openssl_cmp.support")

_UNSPECIFIED = -1  # OSSL_CMP_PKISTATUS_unspecified: no transaction yet


def _invalid(what: str, why: str) -> CMPError:
    return CMPError("GENM (%s) failed: invalid response: %s" % (what, why))


def _exchange(ctx: Context, request: ITAV, expected: str, what: str) -> ITAV:
    """The generic path: send ``request`` in a GENM; the first GENP ITAV of type
    ``expected`` (as OpenSSL's ``get_genm_itav``)."""
    with boundary_of(ctx).lock:
        if lib.OSSL_CMP_CTX_get_status(ctx.ptr) != _UNSPECIFIED:
            raise CMPError("GENM (%s) failed: client context in unsuitable state; call "
                           "reinit() before another transaction" % what)
        ctx.push_genm_itav(request)
        answers = ctx.exec_genm()
    if not answers:
        raise _invalid(what, "the GENP holds no ITAV")
    for itav in answers:
        if itav.type == expected:
            return itav
        logger.warning("GENP contains info type %s while expecting %s", itav.type, expected)
    raise _invalid(what, "no ITAV of type %s in the GENP" % expected)


class _ErrorLines(logging.Handler):
    """The CMP log's error lines of this thread while it runs one operation.  OpenSSL's
    support operations report a refused answer (e.g. "certificate ... is not a CA cert")
    through the log only, with nothing on the error queue: the CMPError quotes them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())


def _native(ctx: Context, func: Callable[..., int], what: str, *args: object) -> None:
    """Run one of OpenSSL's own support operations; CMPError when it fails."""
    collect = _ErrorLines()
    cmp_log = logging.getLogger("openssl_cmp")
    cmp_log.addHandler(collect)
    try:
        with boundary_of(ctx).lock:
            ctx._check_changeable()
            if ctx._call(func, *args) != 1:
                error = ctx._failure("GENM (%s)" % what)
                if not error.errors and collect.lines:
                    error = CMPError("GENM (%s) failed: invalid response: %s"
                                     % (what, "; ".join(collect.lines)),
                                     status=error.status, fail_info=error.fail_info,
                                     status_strings=error.status_strings)
                raise error
    finally:
        cmp_log.removeHandler(collect)


def _within_validity(cert: Certificate) -> bool:
    """notBefore <= now <= notAfter, compared in C as OpenSSL's X509_cmp_timeframe does
    (X509_cmp_current_time: -1 earlier, 1 later, 0 on a malformed time)."""
    ptr = cert.ptr
    within: bool = (lib.X509_cmp_current_time(lib.X509_get0_notBefore(ptr)) < 0
                    and lib.X509_cmp_current_time(lib.X509_get0_notAfter(ptr)) > 0)
    return within


def get_ca_certs(ctx: Context) -> list[Certificate]:
    """The CA certificates the server offers (id-it-caCerts, RFC 9483 §4.3.1); an empty
    list when it has none to offer."""
    if hasattr(lib, "OSSL_CMP_get1_caCerts"):
        out = ffi.new("OCMP_STACK_OF_X509 **")
        _native(ctx, lib.OSSL_CMP_get1_caCerts, "caCerts", out)
        return _certs_from_stack(out[0])
    certs = itavs.get_ca_certs(_exchange(ctx, ITAV(itavs.CA_CERTS), itavs.CA_CERTS,
                                         "caCerts"))
    for cert in certs:
        if not _within_validity(cert):
            raise _invalid("caCerts", "certificate %s is not within its validity period"
                           % cert.subject)
        if lib.X509_get_version(cert.ptr) >= 2 and lib.X509_check_ca(cert.ptr) == 0:
            raise _invalid("caCerts", "certificate %s is not a CA certificate"
                           % cert.subject)
    return certs


def _certs_from_stack(sk: CData) -> list[Certificate]:
    if sk == ffi.NULL:
        return []
    try:
        return [Certificate._borrowed(lib.sk_X509_value(sk, i))
                for i in range(lib.sk_X509_num(sk))]
    finally:
        lib.sk_X509_pop_free(sk, ffi.addressof(lib, "X509_free"))


def _links_to(cert: Certificate, link: Certificate | None,
              anchors: list[Certificate]) -> bool:
    """``cert`` is self-signed and, through ``link`` (the same subject and key, signed by
    an anchor) or directly, chains to one of ``anchors``."""
    if not cert.is_issued_by(cert):
        return False
    if any(cert == anchor for anchor in anchors):
        return True
    if link is None:
        return any(cert.is_issued_by(anchor) for anchor in anchors)
    if link.public_key() != cert.public_key() or link.subject != cert.subject:
        return False
    return any(link.is_issued_by(anchor) for anchor in anchors)


def _check_root_update(ctx: Context, update: RootCaKeyUpdate,
                       old_root: Certificate | None) -> None:
    for name, cert in (("newWithNew", update.new_with_new), ("newWithOld", update.new_with_old),
                       ("oldWithNew", update.old_with_new)):
        if cert is not None and not _within_validity(cert):
            raise _invalid("rootCaKeyUpdate", "%s is not within its validity period" % name)
    if old_root is not None:
        anchors = [old_root]
    else:
        store = ctx.trusted
        anchors = store.certs if store is not None else []
    if not _links_to(update.new_with_new, update.new_with_old, anchors):
        raise _invalid("rootCaKeyUpdate", "failed to validate newWithNew certificate "
                       "received in genp %s" % ("with given certificate as trust anchor"
                                                if old_root is not None
                                                else "using trust store"))
    if old_root is not None and update.old_with_new is not None:
        link = update.old_with_new
        if (link.public_key() != old_root.public_key() or link.subject != old_root.subject
                or not link.is_issued_by(update.new_with_new)):
            raise _invalid("rootCaKeyUpdate", "failed to validate oldWithOld certificate "
                           "received in genp with newWithNew as trust anchor")


def get_root_ca_key_update(ctx: Context,
                           old_root: Certificate | None = None) -> RootCaKeyUpdate | None:
    """Ask for a root CA key update (id-it-rootCaCert → id-it-rootCaKeyUpdate, RFC 9483
    §4.3.2), sending ``old_root`` (the root the client trusts now) when given.  None when
    the server has no update; else the new root and the link certificates, validated."""
    check_instance(old_root, Certificate, "old_root", allow_none=True)
    if hasattr(lib, "OSSL_CMP_get1_rootCaKeyUpdate"):
        out = ffi.new("X509 *[3]")
        _native(ctx, lib.OSSL_CMP_get1_rootCaKeyUpdate, "rootCaKeyUpdate",
                ffi.NULL if old_root is None else old_root.ptr, out, out + 1, out + 2)
        certs = [None if p == ffi.NULL else Certificate._owned(p) for p in out]
        if certs[0] is None:
            return None
        return RootCaKeyUpdate(certs[0], certs[1], certs[2])
    itav = _exchange(ctx, itavs.new_root_ca_cert(old_root), itavs.ROOT_CA_KEY_UPDATE,
                     "rootCaKeyUpdate")
    update = itavs.get_root_ca_key_update(itav)
    if update is None:
        return None
    _check_root_update(ctx, update, old_root)
    return update


def get_cert_req_template(ctx: Context) -> CertReqTemplate | None:
    """What the CA wants in a certificate request (id-it-certReqTemplate, RFC 9483
    §4.3.3); None when it has no template."""
    # The template is read from the ITAV on every version: OpenSSL's own function returns
    # C structures that would have to be re-encoded to reach the same value object.
    if hasattr(lib, "OSSL_CMP_get1_certReqTemplate"):
        template = ffi.new("OSSL_CRMF_CERTTEMPLATE **")
        key_spec = ffi.new("OSSL_CMP_ATAVS **")
        _native(ctx, lib.OSSL_CMP_get1_certReqTemplate, "certReqTemplate", template,
                key_spec)
        return _template_from_c(template[0], key_spec[0])
    itav = _exchange(ctx, ITAV(itavs.CERT_REQ_TEMPLATE), itavs.CERT_REQ_TEMPLATE,
                     "certReqTemplate")
    return itavs.get_cert_req_template(itav)


def _template_from_c(template: CData, key_spec: CData) -> CertReqTemplate | None:
    """The value object of OpenSSL's answer (both structures are ours and freed here),
    read through their DER: wrapping them with ``OSSL_CMP_ITAV_new0_certReqTemplate``
    would leak (OpenSSL 3.4/3.5 allocate a CertTemplate that the given one replaces)."""
    try:
        if template == ffi.NULL:
            return None
        parts = [_bio.i2d(lib.i2d_OSSL_CRMF_CERTTEMPLATE, template, "CertTemplate")]
        if key_spec != ffi.NULL:
            parts.append(_bio.i2d(lib.i2d_OSSL_CMP_ATAVS, key_spec, "keySpec"))
    finally:
        lib.OSSL_CRMF_CERTTEMPLATE_free(template)  # NULL-safe, as the other
        lib.OSSL_CMP_ATAVS_free(key_spec)
    return itavs.get_cert_req_template(ITAV(itavs.CERT_REQ_TEMPLATE, _der.sequence(*parts)))


def get_crl_update(ctx: Context, cert: Certificate | None = None,
                   old_crl: CRL | None = None) -> CRL | None:
    """A newer CRL (id-it-crlStatusList → id-it-crls, RFC 9483 §4.3.4) for the CRL that
    ``old_crl`` is, or that covers ``cert``; None when there is no newer one.  At least one
    of the two is needed.  On OpenSSL < 3.4 the CRL source sent is the issuer's name (of
    ``cert``, else of ``old_crl``); 3.4+ prefers the distribution point of ``cert``."""
    check_instance(cert, Certificate, "cert", allow_none=True)
    check_instance(old_crl, CRL, "old_crl", allow_none=True)
    if cert is None and old_crl is None:
        raise ValueError("get_crl_update needs cert or old_crl")
    if hasattr(lib, "OSSL_CMP_get1_crlUpdate"):
        out = ffi.new("X509_CRL **")
        _native(ctx, lib.OSSL_CMP_get1_crlUpdate, "crlStatusList",
                ffi.NULL if cert is None else cert.ptr,
                ffi.NULL if old_crl is None else old_crl.ptr, out)
        return None if out[0] == ffi.NULL else CRL._owned(out[0])
    issuer = cert.issuer if cert is not None else old_crl.issuer  # type: ignore[union-attr]
    status = CRLStatus(issuer=(GeneralName.directory(issuer),),
                       this_update=None if old_crl is None else old_crl.last_update)
    itav = _exchange(ctx, itavs.new_crl_status_list([status]), itavs.CRLS, "crl")
    crls = itavs.get_crls(itav)
    if len(crls) > 1:
        raise _invalid("crl", "unexpected number of CRLs in genp: %d" % len(crls))
    return crls[0] if crls else None


