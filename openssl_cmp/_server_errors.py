"""The server's CMP error messages with a precise failInfo (RFC 9483 §3.5).

Two kinds:

* the server core's own error response, whose PKIStatusInfo says badRequest whatever went
  wrong: :func:`precise` rewrites its failInfo from the ``errorCode`` the core put in it
  (:mod:`openssl_cmp._failinfo`), keeps everything else, and protects it again exactly as it
  was (MAC or signature with the server's credentials; unprotected only if the original
  was).  If it cannot be protected again the original response is kept.
* the answer to a request refused by a check the core does not make
  (:mod:`openssl_cmp._header_checks`, unknown senderKID, PBMAC1): :func:`refusal` builds it
  like ``serve_http``'s answer to an undecodable body (:mod:`openssl_cmp._http_errors`),
  with the check's failInfo and text.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Optional

from openssl_cmp import _der, _http_errors
from openssl_cmp._failinfo import fail_info_for
from openssl_cmp._protect import protect
from openssl_cmp.context import Context
from openssl_cmp.enums import FailInfo, PKIStatus
from openssl_cmp.errors import OpenSSLError, probe
from openssl_cmp.message import Message

if TYPE_CHECKING:
    from openssl_cmp.server import Server

__all__ = ["ErrorParts", "error_parts", "with_status", "precise", "refusal"]

logger = logging.getLogger("openssl_cmp.server")

Adjust = Optional[Callable[[Context], None]]
_ERROR_BODY = 0xB7  # [23] ErrorMsgContent, constructed


class ErrorParts:
    """The pieces of an error message's DER."""

    __slots__ = ("top", "status", "fail_info", "texts", "error_code", "rest")

    def __init__(self, top: list[_der.TLV], status: int, fail_info: int, texts: list[str],
                 error_code: int | None, rest: list[_der.TLV]) -> None:
        self.top = top  # header, body, [protection], [extraCerts]
        self.status = status
        self.fail_info = fail_info
        self.texts = texts
        self.error_code = error_code
        self.rest = rest  # errorCode, errorDetails as they were

    @property
    def header(self) -> _der.TLV:
        """The PKIHeader TLV."""
        return self.top[0]

    @property
    def protected(self) -> bool:
        """The message carries protection."""
        return any(t.tag == 0xA0 for t in self.top[2:])


def error_parts(der: bytes) -> ErrorParts | None:
    """The parts of an ``error`` message, or None for another body."""
    top = _der.children(_der.single(der).value)
    if len(top) < 2 or top[1].tag != _ERROR_BODY:
        return None
    content = _der.children(_der.single(top[1].value).value)
    status, fail_info, texts = _der.pkistatusinfo(content[0].raw)
    code = None
    if len(content) > 1 and content[1].tag == 0x02:
        code = _der.integer(content[1])
    return ErrorParts(top, status, fail_info, texts, code, content[1:])


def with_status(parts: ErrorParts, fail_info: int, texts: list[str]) -> bytes:
    """The DER of the message with its PKIStatusInfo replaced and its protection dropped
    (the header, with its protectionAlg, and the extraCerts are kept for re-protection)."""
    status = _der.encode_pkistatusinfo(parts.status, fail_info, texts)
    body = _der.encode(_ERROR_BODY, _der.sequence(status, *(t.raw for t in parts.rest)))
    extra = [t.raw for t in parts.top[2:] if t.tag == 0xA1]
    return _der.sequence(parts.header.raw, body, *extra)


def _protect(server: Server, fields: dict[str, Any], message: Message,
             adjust: Adjust) -> Message | None:
    """``message`` protected with the server's credentials as chosen for ``fields`` (the
    header of the message being answered or rewritten), or None if that fails."""
    ctx = _http_errors._protection_context(server, fields)
    if ctx is None:
        return None
    try:
        if adjust is not None:
            with probe():
                adjust(ctx)
        errors = protect(ctx, message)  # (and sets the transaction ID the context holds)
        if errors:
            logger.warning("cannot protect a CMP error message: %s",
                           "; ".join(str(e) for e in errors) or "unknown error")
            return None
        return message
    except Exception as exc:  # noqa: BLE001 - the caller falls back
        logger.warning("cannot protect a CMP error message: %s", exc)
        return None
    finally:
        ctx.close()


def precise(server: Server, response: Message, fail_info: FailInfo | None,
            adjust: Adjust = None) -> Message:
    """The core's error ``response`` with the failInfo its errorCode deserves (or
    ``fail_info`` when given: a handler's own); ``response`` itself when it is not such an
    error, already precise, or cannot be protected again."""
    try:
        der = response.to_der()
        parts = error_parts(der)
        if parts is None or parts.status != PKIStatus.REJECTION \
                or parts.fail_info != FailInfo.BAD_REQUEST:
            return response  # not the core's hard-coded answer
        bit = fail_info if fail_info is not None else fail_info_for(parts.error_code)
        if bit == FailInfo.BAD_REQUEST:
            return response
        rewritten = Message.from_der(with_status(parts, int(bit), parts.texts))
        if not parts.protected:
            return rewritten
        fields = _der.pkiheader(parts.header.raw)
        protected = _protect(server, fields, rewritten, adjust)
        return response if protected is None else protected
    except (ValueError, IndexError, OpenSSLError) as exc:
        logger.warning("cannot rewrite the failInfo of a CMP error message: %s", exc)
        return response


def refusal(server: Server, fields: dict[str, Any], fail_info: FailInfo, text: str,
            adjust: Adjust = None) -> Message | None:
    """A CMP error message refusing the request whose header ``fields`` are given (status
    rejection, ``fail_info``, ``text``), protected as the server core would; None if the
    header cannot be echoed."""
    ctx = _http_errors._protection_context(server, fields)
    try:
        sender = _http_errors._sender(server.ctx if ctx is None else ctx)
        protected = ctx is not None
    finally:
        if ctx is not None:
            ctx.close()
    def build(protect: bool) -> Message:
        parts = error_parts(_http_errors._build(fields, sender, protect))
        if parts is None:  # pragma: no cover - _build always makes an error body
            raise ValueError("not an error message")
        return Message.from_der(with_status(parts, int(fail_info), [text]))

    try:
        message = build(protected)
        if protected:
            result = _protect(server, fields, message, adjust)
            # as _http_errors: unprotected when protecting fails (logged)
            message = result if result is not None else build(False)
    except (ValueError, OpenSSLError):  # a header field we would echo is not valid
        return None
    return message
