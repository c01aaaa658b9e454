"""``--reqout``/``--rspout`` (capture the DER messages), ``--reqin``/``--rspin`` (send
requests from files, take responses from files) and ``--reqout-only``, as a transfer
callback around the real transfer (HTTP, or the embedded MockCA).

Mirrors ``read_write_req_resp`` of ``apps/cmp.c``: each option takes a list of files, one
per message of the transaction; when a response comes from a file, or a request from a file
was sent, the client takes the transactionID and nonce of that response so that its own
checks pass.  A request read from ``--reqin`` is sent as it is: only a transaction's first
request can come from a file (a later one would need its recipNonce updated and
re-protected).
"""

from __future__ import annotations

import http.client
import sys
from typing import Any, Callable

from openssl_cmp.cli._errors import CLIError
from openssl_cmp.cli._files import split_list
from openssl_cmp.context import Context
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import Error, raise_openssl
from openssl_cmp.message import Message

__all__ = ["Offline", "StopAfterRequest", "http_forward"]

Forward = Callable[[Message], Message]


class StopAfterRequest(Exception):
    """``--reqout-only``: the request is written, the transaction stops there."""


def _take(files: list[str]) -> str | None:
    return files.pop(0) if files else None


def _read(path: str, option: str) -> Message:
    try:
        return Message.read(path)
    except (Error, OSError, ValueError) as exc:
        raise CLIError("%s: cannot read a CMP message from %s: %s"
                       % (option, path, str(exc).splitlines()[0])) from None


def _write(message: Message, path: str, option: str) -> None:
    try:
        message.write(path)
    except (Error, OSError, ValueError) as exc:
        raise CLIError("%s: cannot write %s: %s" % (option, path, str(exc).splitlines()[0])) \
            from None


def _set_octets(ctx: Context, setter: Any, value: bytes | None, what: str) -> None:
    octets = ffi.NULL
    if value is not None:
        octets = lib.ASN1_OCTET_STRING_new()
        if octets == ffi.NULL or lib.ASN1_OCTET_STRING_set(octets, value, len(value)) != 1:
            lib.ASN1_OCTET_STRING_free(octets)
            raise_openssl("cannot build the %s" % what)
    try:
        if setter(ctx.ptr, octets) != 1:  # set1: copies
            raise_openssl("cannot set the %s" % what)
    finally:
        if octets != ffi.NULL:
            lib.ASN1_OCTET_STRING_free(octets)


def _adopt(ctx: Context, response: Message) -> None:
    """Take the response's transactionID and recipNonce as the client's own, from inside
    the transfer callback, as ``read_write_req_resp`` of apps/cmp.c does.  The Context's
    setters refuse changes from inside its callbacks (in general OpenSSL holds pointers
    into its state there); these two ``set1`` calls copy their argument and are made at
    the very point where OpenSSL's own application makes them, so they go to C directly."""
    _set_octets(ctx, lib.OSSL_CMP_CTX_set1_senderNonce, response.recip_nonce,
                "sender nonce")
    _set_octets(ctx, lib.OSSL_CMP_CTX_set1_transactionID, response.transaction_id,
                "transaction ID")


class Offline:
    """The transfer callback; ``forward`` is the real transfer (None: there is none, so
    every response must come from ``--rspin``)."""

    def __init__(self, forward: Forward | None, reqout: str | None = None,
                 rspout: str | None = None, reqin: str | None = None,
                 rspin: str | None = None, reqout_only: str | None = None) -> None:
        self.forward = forward
        self.reqout = split_list(reqout or "")
        self.rspout = split_list(rspout or "")
        self.reqin = split_list(reqin or "")
        self.rspin = split_list(rspin or "")
        self.reqout_only = reqout_only
        self.stopped = False

    def __call__(self, ctx: Context, request: Message) -> Message:
        if self.reqout_only:
            _write(request, self.reqout_only, "--reqout-only")
            self.stopped = True
            raise StopAfterRequest()
        path = _take(self.reqout)
        if path:
            _write(request, path, "--reqout")
        actual = request
        from_file = False
        path = _take(self.reqin)
        if path and not self.rspin:
            actual = _read(path, "--reqin")
            from_file = True
        path = _take(self.rspin)
        if path:
            response = _read(path, "--rspin")
            from_file = True
        elif self.forward is not None:
            response = self.forward(actual)
        else:
            raise CLIError("--rspin: too few files for the responses of this transaction "
                           "(and no --server to ask)")
        if from_file:
            # as apps/cmp.c: adopt the response's transactionID and nonce so that the
            # client's own checks (RFC 9810 section 5.1.1) pass for a message it did not make
            _adopt(ctx, response)
        path = _take(self.rspout)
        if path:
            _write(response, path, "--rspout")
        return response


def http_forward(host: str, port: int, path: str, timeout: float | None) -> Forward:
    """POST each DER request to ``http://host:port/path`` (RFC 6712) on one persistent
    connection: servers such as OpenSSL's mock end a transaction whose connection
    closes (the keep-alive that ``openssl cmp`` requests by default)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def forward(request: Message) -> Message:
        try:
            conn.request("POST", "/" + path.lstrip("/"), body=request.to_der(),
                         headers={"Content-Type": "application/pkixcmp",
                                  "Connection": "keep-alive"})
            reply = conn.getresponse()
            body = reply.read()
        except OSError as exc:
            conn.close()
            raise CLIError("--server: cannot reach %s:%d: %s" % (host, port, exc)) from None
        if reply.status != 200:
            raise CLIError("--server: %s:%d answered HTTP %d %s"
                           % (host, port, reply.status, reply.reason))
        try:
            return Message.from_der(body)
        except (Error, ValueError) as exc:
            raise CLIError("--server: the answer is no CMP message: %s" % exc) from None
    return forward


def note(text: str) -> None:
    """A line on stderr, as ``openssl cmp`` reports its steps."""
    print("openssl-cmp: %s" % text, file=sys.stderr, flush=True)
