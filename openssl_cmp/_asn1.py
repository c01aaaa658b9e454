"""ASN.1 scalars across the boundary: times, integers, OIDs and string contents.

Small converters between OpenSSL's ASN.1 primitives and Python values, used by the value
classes (``objects``, ``message``) and by ``context`` and ``server``.  They sit low in the
package (on ``binding`` and ``errors`` only), beside ``_bio``, so that no module imports
another's private helpers.
"""

from __future__ import annotations

import datetime

from openssl_cmp._typing import CData
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import raise_openssl

__all__ = ["asn1_time", "asn1_integer_to_int", "int_to_asn1_integer", "oid_text",
           "asn1_string_bytes"]


def asn1_time(ptr: CData) -> datetime.datetime:
    """ASN1_TIME (UTCTime or GeneralizedTime, as DER requires: ...Z) -> aware datetime."""
    raw = ffi.string(ffi.cast("char *", lib.ASN1_STRING_get0_data(ptr)),
                     lib.ASN1_STRING_length(ptr)).decode("ascii")
    fmt = "%y%m%d%H%M%SZ" if len(raw) == 13 else "%Y%m%d%H%M%SZ"
    return datetime.datetime.strptime(raw, fmt).replace(tzinfo=datetime.timezone.utc)


def asn1_integer_to_int(ptr: CData) -> int:
    """The value of an ``ASN1_INTEGER *`` (which the caller holds), of any size."""
    bn = lib.ASN1_INTEGER_to_BN(ptr, ffi.NULL)
    if bn == ffi.NULL:
        raise_openssl("cannot read an ASN.1 INTEGER")
    try:
        n = (lib.BN_num_bits(bn) + 7) // 8
        buf = ffi.new("unsigned char[]", max(n, 1))
        lib.BN_bn2binpad(bn, buf, n)
        value = int.from_bytes(ffi.buffer(buf, n)[:], "big")
        return -value if lib.BN_is_negative(bn) else value
    finally:
        lib.BN_free(bn)


def int_to_asn1_integer(value: int) -> CData:
    """A new ``ASN1_INTEGER *`` (caller frees) for a Python int."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("serial number must be int, not %s" % type(value).__name__)
    raw = abs(value).to_bytes(max((abs(value).bit_length() + 7) // 8, 1), "big")
    bn = lib.BN_bin2bn(raw, len(raw), ffi.NULL)
    if bn == ffi.NULL:
        raise_openssl("cannot convert integer")
    try:
        if value < 0:
            lib.BN_set_negative(bn, 1)
        asn1 = lib.BN_to_ASN1_INTEGER(bn, ffi.NULL)
        if asn1 == ffi.NULL:
            raise_openssl("cannot convert integer")
        return asn1
    finally:
        lib.BN_free(bn)


def oid_text(obj: CData) -> str:
    """Dotted text of an ``ASN1_OBJECT *``, however long."""
    n = lib.OBJ_obj2txt(ffi.NULL, 0, obj, 1)
    if n <= 0:
        raise_openssl("cannot print OID")
    buf = ffi.new("char[]", n + 1)
    lib.OBJ_obj2txt(buf, n + 1, obj, 1)
    return ffi.string(buf).decode("ascii")


def asn1_string_bytes(ptr: CData) -> bytes:
    """The contents of an ``ASN1_STRING *`` (which the caller holds)."""
    return ffi.buffer(lib.ASN1_STRING_get0_data(ptr), lib.ASN1_STRING_length(ptr))[:]
