"""One sentence that says what to do about a failed transaction.

OpenSSL's error queue says *what* failed, in its own terms ("HTTP routines: passed a null
parameter", "system library: reason(111)", "missing reference cert").  The person debugging
an enrollment at night needs the cause in the library's terms and the setting to change.
:func:`hint` reads the drained queue (matching library and reason codes, never message
text) and returns that sentence, or None when it has nothing better than the queue itself.
"""

from __future__ import annotations

import os
import re
from typing import Sequence

from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import ErrorEntry
from openssl_cmp.revocation import take_detail

__all__ = ["hint"]

_CONNECT = re.compile(r"calling connect\((?P<host>.*), (?P<port>\d+)\)")
_SENDER = re.compile(r"for msg sender name = (?P<name>/.*?)(?: and for msg senderKID|$)")


def _sender_cert_refused(errors: Sequence[ErrorEntry]) -> str | None:
    """Why the server's certificate did not verify, when that is why no sender certificate
    was found.  OpenSSL's CMP client logs the verify error and drops it from the queue; the
    store's verify callback (``_cffi_src/x509_verify.py``) keeps this thread's last one, and
    it is used only when its certificate is the message's sender."""
    entry = next((e for e in errors if e.lib_code == lib.ERR_LIB_CMP and e.reason_code in (
        lib.CMP_R_NO_SUITABLE_SENDER_CERT, lib.CMP_R_SRVCERT_DOES_NOT_VALIDATE_MSG,
        lib.CMP_R_POTENTIALLY_INVALID_CERTIFICATE)), None)
    if entry is None:
        return None
    reason, leaf = ffi.new("char[512]"), ffi.new("char[512]")
    took = lib.ocmp_take_verify_failure(reason, leaf)
    detail = take_detail()
    if took:
        sender = next((m.group("name") for m in (_SENDER.search(e.data or "")
                                                 for e in errors) if m), None)
        # a failure about another certificate is an older one of this thread: not the cause
        if sender is None or ffi.string(leaf).decode("utf-8", "replace") == sender:
            text = ffi.string(reason).decode("utf-8", "replace")
            return ("the server's certificate was not accepted: %s%s: check ctx.trusted "
                    "(its anchors, verify_time, purpose, CRLs and revocation settings) and "
                    "ctx.untrusted" % (text, "; %s" % detail if detail else ""))
    if entry.reason_code != lib.CMP_R_NO_SUITABLE_SENDER_CERT:
        return None
    # OpenSSL looked at the candidates before any path verification: the time window (at
    # ctx.trusted.verify_time), the key usage, the names; it logs which one failed
    return ("no certificate that could have signed the response was acceptable (expired or "
            "not yet valid at ctx.trusted.verify_time, without digitalSignature key usage, "
            "or not matching the sender name): the log says which; check ctx.trusted and "
            "ctx.untrusted")


def _ssl(reason_name: str) -> int:
    return int(getattr(lib, reason_name, -1))


def hint(errors: Sequence[ErrorEntry], what: str, *, server: str | None,
         port: int | None = None) -> str | None:
    """The cause of a failed ``what`` (e.g. "IR") and what to do, or None."""
    refused = _sender_cert_refused(errors)
    if refused is not None:
        return refused
    for e in errors:
        if e.lib_code == lib.ERR_LIB_CMP and e.reason_code == lib.CMP_R_MISSING_REFERENCE_CERT:
            if what == "KUR":
                return ("KUR needs the certificate to update: set ctx.old_cert "
                        "(or ctx.cert, which KUR uses by default)")
            if what == "RR":
                return ("RR needs the certificate to revoke: set ctx.old_cert (or, on "
                        "OpenSSL 3.2+, ctx.issuer and ctx.serial_number)")
            return "%s needs a reference certificate: set ctx.old_cert or ctx.cert" % what
    for e in errors:
        if e.lib_code == lib.ERR_LIB_HTTP and e.func == "OSSL_HTTP_open" and server is None:
            return ("no CMP server is set: call ctx.set_url(\"http://host:port/path\") (or "
                    "set ctx.server), give a transfer_callback, or Server.attach(ctx)")
    for e in errors:
        if e.lib_code == lib.ERR_LIB_SYS and e.data:
            m = _CONNECT.search(e.data)
            if m:
                return "cannot connect to %s:%s: %s" % (
                    m.group("host"), m.group("port"), os.strerror(e.reason_code).lower())
    for e in errors:
        if e.lib_code != lib.ERR_LIB_SSL:
            continue
        if e.reason_code == _ssl("SSL_R_CERTIFICATE_VERIFY_FAILED"):
            details = [x.data for x in errors if x.lib_code == lib.ERR_LIB_SSL
                       and x.reason_code == e.reason_code and x.data]
            detail = details[-1].split(":", 1)[-1].strip() if details else ""
            return ("TLS: the server's certificate was not accepted%s: check TLS(trusted=...) "
                    "(the CA of the server's TLS certificate) and TLS(host=...) or the "
                    "URL's host (the name the certificate must carry)"
                    % (" (%s)" % detail if detail else ""))
        if e.reason_code in (_ssl("SSL_R_TLSV1_ALERT_UNKNOWN_CA"),
                             _ssl("SSL_R_SSLV3_ALERT_BAD_CERTIFICATE"),
                             _ssl("SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE"),
                             _ssl("SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED")):
            return ("TLS: the server refused the handshake (%s): it may require a client "
                    "certificate it trusts: set TLS(cert=..., key=...)" % e.reason)
        if e.reason_code in (_ssl("SSL_R_WRONG_VERSION_NUMBER"),
                             _ssl("SSL_R_UNKNOWN_PROTOCOL"),
                             _ssl("SSL_R_PACKET_LENGTH_TOO_LONG")):
            return ("TLS: the server does not speak TLS at this address (%s): is it an "
                    "http:// server?" % e.reason)
        return "TLS handshake failed: %s%s" % (e.reason, " (%s)" % e.data if e.data else "")
    for e in errors:
        if e.lib_code == lib.ERR_LIB_BIO and e.reason_code == lib.BIO_R_CONNECT_TIMEOUT:
            return ("cannot connect to %s:%s in time: with a timeout set, OpenSSL retries a "
                    "refused connection until Option.MSG_TIMEOUT or Option.TOTAL_TIMEOUT ends"
                    % (server, port or "default port"))
    for e in errors:
        if e.lib_code == lib.ERR_LIB_CMP and e.reason_code == lib.CMP_R_TOTAL_TIMEOUT:
            return "Option.TOTAL_TIMEOUT expired before the transaction ended"
    for e in errors:
        if (e.lib_code == lib.ERR_LIB_HTTP and e.reason_code == lib.HTTP_R_RETRY_TIMEOUT) or \
                (e.lib_code == lib.ERR_LIB_BIO and e.reason_code == lib.BIO_R_TRANSFER_TIMEOUT):
            return ("the server did not answer in time (Option.MSG_TIMEOUT, or what is left "
                    "of Option.TOTAL_TIMEOUT)")
    return None
