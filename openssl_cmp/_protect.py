"""Protecting a message with a context's credentials: the one public OpenSSL call that does
it, ``OSSL_CMP_MSG_update_transactionID`` (it also writes the context's transactionID into
the header, and draws one when the context has none), through the context's boundary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from openssl_cmp._boundary import boundary_of
from openssl_cmp.binding import lib
from openssl_cmp.errors import ErrorEntry, drain, probe

if TYPE_CHECKING:
    from openssl_cmp.context import Context
    from openssl_cmp.message import Message

__all__ = ["protect"]


def protect(ctx: Context, message: Message) -> list[ErrorEntry]:
    """Protect ``message`` in place with ``ctx``'s credentials (PBM with its secret, or a
    signature with its certificate and key): ``[]`` when done, else OpenSSL's account of
    why not.  Signing may leave benign entries (chain building) when it succeeds: probed."""
    boundary = boundary_of(ctx)
    with boundary.lock, probe():
        if boundary.call(lib.OSSL_CMP_MSG_update_transactionID, ctx.ptr, message.ptr) == 1:
            return []
        return drain()
