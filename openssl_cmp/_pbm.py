"""The MAC a server answers a PBM-protected request with (RFC 9481 §6).

OpenSSL protects every MAC-based response with its context's PBM options (default: owf
SHA-256, mac hmac-sha1, 500 iterations), whatever the request used.  RFC 9481 §6.1.1 wants
the response in the request's MAC family, at SHA-256 or better: the server sets the worker's
``OWF_ALGNID`` and ``MAC_ALGNID`` per request from the request's PBMParameter, raising
anything weaker than SHA-256 to SHA-256.  (OpenSSL has no option for the iteration count;
it stays at 500.)  PBMAC1 (RFC 9481 §6.1.2) is not supported by OpenSSL 3.0–3.5: such a
request is answered with badAlg.
"""

from __future__ import annotations

import functools

from openssl_cmp import _der
from openssl_cmp.binding import lib

__all__ = ["PBM_OID", "PBMAC1_OID", "protection_oid", "response_nids"]

PBM_OID = _der.encode_oid("1.2.840.113533.7.66.13")  # id-PasswordBasedMac
PBMAC1_OID = _der.encode_oid("1.2.840.113549.1.5.14")  # id-PBMAC1 (RFC 8018)

# digests and HMACs of SHA-256 strength or more (RFC 9481 §2, §6.2), by DER OID
_STRONG_OWF = {_der.encode_oid("2.16.840.1.101.3.4.2." + n) for n in
               ("1", "2", "3", "6", "8", "9", "10")}  # sha256/384/512, 512-256, sha3-*
_STRONG_MAC = {_der.encode_oid(o) for o in
               ("1.2.840.113549.2.9", "1.2.840.113549.2.10", "1.2.840.113549.2.11",
                "1.2.840.113549.2.13",  # hmacWithSHA256/384/512, 512-256
                "2.16.840.1.101.3.4.2.14", "2.16.840.1.101.3.4.2.15",
                "2.16.840.1.101.3.4.2.16")}  # hmac-sha3-256/384/512

_SHA256_NID: int = lib.OBJ_txt2nid(b"2.16.840.1.101.3.4.2.1")
_HMAC_SHA256_NID: int = lib.OBJ_txt2nid(b"1.2.840.113549.2.9")


def protection_oid(protection_alg: bytes | None) -> bytes | None:
    """The DER OID of a protectionAlg AlgorithmIdentifier (its DER), or None."""
    if protection_alg is None:
        return None
    try:
        return _der.algorithm_oid(_der.single(protection_alg))
    except ValueError:
        return None


@functools.lru_cache(maxsize=64)  # a handful of algorithms; OBJ_txt2nid parses text
def _nid(oid_raw: bytes) -> int:
    """The NID of a DER OID (0 when OpenSSL does not know it)."""
    return int(lib.OBJ_txt2nid(_der.oid(_der.single(oid_raw)).encode("ascii")))


def response_nids(protection_alg: bytes) -> tuple[int, int] | None:
    """(owf NID, mac NID) for the response to a request protected with the PBM
    ``protection_alg`` (its DER), raised to SHA-256 where weaker; None if its PBMParameter
    cannot be read (the server core then refuses the request itself)."""
    try:
        parts = _der.children(_der.single(protection_alg).value)
        # PBMParameter ::= SEQUENCE { salt, owf AlgorithmIdentifier, iterationCount, mac }
        params = _der.children(parts[1].value)
        owf_oid = _der.children(params[1].value)[0].raw
        mac_oid = _der.children(params[3].value)[0].raw
        owf = _SHA256_NID if owf_oid not in _STRONG_OWF else _nid(owf_oid)
        mac = _HMAC_SHA256_NID if mac_oid not in _STRONG_MAC else _nid(mac_oid)
    except (ValueError, IndexError):
        return None
    if not owf or not mac:
        return None
    return owf, mac
