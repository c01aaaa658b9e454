"""The CMP answer of ``serve_http`` to a body that is not a decodable PKIMessage.

A CMP server answers a request it cannot use with a CMP error message (here status
rejection, failInfo badDataFormat: "the data submitted has the wrong format", RFC 4210),
as long as it can still tell whom to answer.  OpenSSL's server core
needs a decoded ``OSSL_CMP_MSG``, so when ``d2i`` refuses the body this module reads the
PKIHeader with the small DER reader (:mod:`openssl_cmp._der`) and builds the error message
itself:

* ``pvno`` as requested (2 or 3; anything else is answered with 2),
* ``sender``: the subject of the server's certificate (``server.ctx.cert``), else its
  ``subject_name``, else the NULL-DN,
* ``recipient``: the request's sender,
* ``transactionID`` echoed, ``recipNonce`` = the request's senderNonce, a fresh
  ``senderNonce``, ``messageTime`` now,
* body ``error``: PKIStatusInfo {rejection, badDataFormat, one status string}.

Protection: as OpenSSL's server would protect it.  The message is re-protected with
``OSSL_CMP_MSG_update_transactionID`` on a scratch context configured like the server's
workers (``server.ctx`` replayed onto it): PBM with the server's secret, or, for a request
that was not PBM-protected, a signature with the server's certificate and key when it has
them.  It goes out unprotected when ``server.send_unprotected_errors`` is set, when the
server has no credentials, or when protecting fails (logged).
"""

from __future__ import annotations

import datetime
import logging
import os
from typing import TYPE_CHECKING, Any

from openssl_cmp import _der, _pbm
from openssl_cmp._protect import protect
from openssl_cmp.context import Context
from openssl_cmp.enums import FailInfo, PKIStatus
from openssl_cmp.errors import OpenSSLError, probe
from openssl_cmp.message import Message

if TYPE_CHECKING:
    from openssl_cmp.server import Server

__all__ = ["STATUS_TEXT", "readable_header", "error_response"]

logger = logging.getLogger("openssl_cmp.http")

STATUS_TEXT = "the request is not a decodable PKIMessage"
_NULL_DN = b"\xa4\x02\x30\x00"  # GeneralName directoryName [4] { RDNSequence {} }
_NONCE_BYTES = 16  # as OpenSSL (OSSL_CMP_SENDERNONCE_LENGTH)


def _content_start(data: bytes) -> int:
    """Offset of the contents of the TLV at 0 (its length may lie: a truncated or padded
    body still shows its header)."""
    first = data[1]
    if not first & 0x80:
        return 2
    n = first & 0x7F
    if n == 0 or n > 4:
        raise ValueError("unsupported DER length encoding")
    return 2 + n


def _is_general_name(raw: bytes) -> bool:
    tag = raw[0]
    return tag & 0xC0 == 0x80 and tag & 0x1F <= 8  # [0]..[8], primitive or constructed


def readable_header(body: bytes) -> dict[str, Any] | None:
    """The PKIHeader fields of ``body`` (see ``_der.pkiheader``), or None when the body
    does not start like a PKIMessage with a well-formed header."""
    try:
        if len(body) < 4 or body[0] != 0x30:
            return None
        header, _ = _der.read_tlv(body, _content_start(body))
        if header.tag != 0x30:
            return None
        fields = _der.pkiheader(header.raw)
    except (ValueError, IndexError):
        return None
    if not (_is_general_name(fields["sender"]) and _is_general_name(fields["recipient"])):
        return None
    return fields


def _is_pbm(fields: dict[str, Any]) -> bool:
    return fields.get("protection_oid") == _pbm.PBM_OID


def _explicit(number: int, inner: bytes) -> bytes:
    return _der.encode(0xA0 | number, inner)


def _build(fields: dict[str, Any], sender: bytes, protected: bool) -> bytes:
    pvno = fields["pvno"] if fields["pvno"] in (2, 3) else 2
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")
    header = [_der.encode_integer(pvno), sender, fields["sender"],
              _explicit(0, _der.encode(0x18, now.encode("ascii")))]
    if protected:  # a placeholder: update_transactionID replaces it
        header.append(_explicit(1, _der.sequence(_pbm.PBM_OID)))
    tid = fields.get("transaction_id")
    if tid is not None:
        header.append(_explicit(4, _der.encode(0x04, tid)))
    header.append(_explicit(5, _der.encode(0x04, os.urandom(_NONCE_BYTES))))
    nonce = fields.get("sender_nonce")
    if nonce is not None:
        header.append(_explicit(6, _der.encode(0x04, nonce)))
    status = _der.encode_pkistatusinfo(int(PKIStatus.REJECTION),
                                       int(FailInfo.BAD_DATA_FORMAT), [STATUS_TEXT])
    body = _explicit(23, _der.sequence(status))  # PKIBody error [23] ErrorMsgContent
    return _der.sequence(_der.sequence(*header), body)


def _protection_context(server: Server, fields: dict[str, Any]) -> Context | None:
    """A scratch context with the server's protection credentials, or None (unprotected)."""
    if server.send_unprotected_errors:
        return None
    template = server.ctx
    replay = getattr(template, "_replay_onto", None)
    if replay is None:
        return None
    ctx = Context(template.libctx, template.propq)
    try:
        # a failure means "unprotected", not an error: what it leaves on the queue goes
        with probe():
            replay(ctx)
            if not _is_pbm(fields) and ctx.cert is not None and ctx.pkey is not None:
                # as OpenSSL's server: a request not protected by PBM gets a signed answer
                ctx.secret_value = None
            if fields.get("transaction_id") is not None:
                ctx.transaction_id = fields["transaction_id"]
    except Exception as exc:  # noqa: BLE001 - then the answer goes out unprotected
        ctx.close()
        logger.warning("cannot set up protection for a CMP error message: %s", exc)
        return None
    return ctx


def _sender(ctx: Context) -> bytes:
    """The sender GeneralName OpenSSL's server would use: the subject of its certificate,
    else its ``subject_name``, else the NULL-DN."""
    cert = ctx.cert
    name = cert.subject if cert is not None else ctx.subject_name
    return _NULL_DN if name is None else _explicit(4, name.to_der())


def error_response(server: Server, body: bytes) -> bytes | None:
    """DER of the CMP error message answering ``body``, or None if its header is not
    readable (the caller then answers with HTTP 400)."""
    fields = readable_header(body)
    if fields is None:
        return None
    ctx = _protection_context(server, fields)
    sender = _sender(server.ctx if ctx is None else ctx)
    try:
        try:
            message = Message.from_der(_build(fields, sender, ctx is not None))
        except (OpenSSLError, ValueError):  # (an OpenSSLError took the queue with it)
            return None  # a header field we would echo is not valid after all
        if ctx is not None:
            # re-protects with the context's credentials (and sets its transaction ID)
            errors = protect(ctx, message)
            if errors:
                logger.warning("cannot protect a CMP error message, sending it unprotected:"
                               " %s", "; ".join(str(e) for e in errors) or "unknown error")
                message = Message.from_der(_build(fields, sender, False))
        der = message.to_der()
    finally:
        if ctx is not None:
            ctx.close()
    return der
