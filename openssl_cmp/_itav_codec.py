"""OpenSSL's own InfoTypeAndValue codec, which libcrypto does not export.

``OSSL_CMP_ITAV_create`` and ``OSSL_CMP_ITAV_get0_value`` treat every value as an
``ASN1_TYPE``, but for the info types in :data:`TYPED_INFO_OIDS` OpenSSL decodes the value
into its own structure (``crypto/cmp/cmp_asn.c``, ``ASN1_ADB(OSSL_CMP_ITAV)``): giving or
reading such a value as an ``ASN1_TYPE`` is a type confusion that crashes
(docs/openssl-versions.md).  Those values, and whole InfoTypeAndValue DER, therefore go
through OpenSSL's own ASN.1 item for ``OSSL_CMP_ITAV``: the extension's
``ocmp_d2i_OSSL_CMP_ITAV`` / ``ocmp_i2d_OSSL_CMP_ITAV`` (``_cffi_src/cmp_msg.py``) apply it
with ``ASN1_item_d2i`` / ``ASN1_item_i2d``, exactly as OpenSSL does inside a PKIMessage.

The codec holds no state: every call works on its own pointers, so it is thread-safe without
a lock and keeps no ITAV alive.  It returns raw pointers; ``message.ITAV`` wraps them.
"""

from __future__ import annotations

from openssl_cmp import _bio, binding
from openssl_cmp._typing import CData
from openssl_cmp.binding import lib
from openssl_cmp.errors import OpenSSLError

__all__ = ["TYPED_INFO_OIDS", "decode", "encode"]

# Info types whose value OpenSSL decodes into its own structure, by the release that added
# them (id-it arcs).
_ID_IT = "1.3.6.1.5.5.7.4."
_TYPED_INFO = {
    0x30000000: (1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16),
    0x30200000: (17, 18, 20),  # caCerts, rootCaKeyUpdate, rootCaCert
    0x30300000: (21,),  # certProfile
    0x30400000: (19, 22, 23),  # certReqTemplate, crlStatusList, crls
}


def _typed_info_oids() -> frozenset[str]:
    oids: set[str] = set()
    for version, arcs in _TYPED_INFO.items():
        if binding.OPENSSL_VERSION_NUMBER >= version:
            oids.update(_ID_IT + str(a) for a in arcs)
    return frozenset(oids)


TYPED_INFO_OIDS = _typed_info_oids()
"""The infoType OIDs whose values the linked OpenSSL decodes itself (see ``ITAV``)."""


def decode(itav_der: bytes) -> CData:
    """A new ``OSSL_CMP_ITAV *`` (the caller frees it) from the DER of a whole
    InfoTypeAndValue, its value typed as OpenSSL types it."""
    ptr, used = _bio.d2i(lib.ocmp_d2i_OSSL_CMP_ITAV, itav_der, "InfoTypeAndValue",
                         failure="the value does not match what OpenSSL expects for this "
                                 "infoType")
    if used != len(itav_der):
        lib.OSSL_CMP_ITAV_free(ptr)
        raise ValueError("OpenSSL could not decode this InfoTypeAndValue")
    return ptr


def encode(itav: CData) -> bytes:
    """The DER of the whole InfoTypeAndValue ``itav`` (an ``OSSL_CMP_ITAV *`` the caller
    holds)."""
    try:
        return _bio.i2d(lib.ocmp_i2d_OSSL_CMP_ITAV, itav, "InfoTypeAndValue")
    except OpenSSLError as exc:
        raise ValueError("OpenSSL could not encode this InfoTypeAndValue") from exc
