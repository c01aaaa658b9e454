"""Which PKIFailureInfo bit an error of OpenSSL's CMP server core deserves.

``OSSL_CMP_SRV_process_request`` answers every error it detects with failInfo
``badRequest`` (hard-coded in ``crypto/cmp/cmp_server.c``) and puts the packed OpenSSL error
code of the first queued error into the ``errorCode`` of the ErrorMsgContent.  RFC 9483
§3.5 (and RFC 4210 §5.2.3) expect a precise bit: this table maps the reasons the server path
can raise (``cmp_server.c``, ``cmp_vfy.c``, ``cmp_hdr.c``, ``cmp_msg.c``, ``cmp_protect.c``)
to it.  Reason codes are stable across OpenSSL releases (``crypto/err/openssl.txt`` never
renumbers), so they are listed by number; the ones added after 3.0 are marked.

Anything not listed keeps ``badRequest``.
"""

from __future__ import annotations

from openssl_cmp.enums import FailInfo

__all__ = ["CMP_REASONS", "FAIL_INFO_BY_REASON", "fail_info_for"]

# CMP_R_* reason codes (include/openssl/cmperr.h) of the server path.
CMP_REASONS: dict[str, int] = {
    "UNSUPPORTED_PKIBODY": 101,  # 3.2+ (3.0 says UNEXPECTED_PKIBODY)
    "EXPECTED_POLLREQ": 104,  # 3.2+
    "UNEXPECTED_POLLREQ": 105,  # 3.2+
    "UNEXPECTED_SENDER": 106,  # 3.2+
    "BAD_REQUEST_ID": 108,
    "CERTID_NOT_FOUND": 109,
    "FAILURE_OBTAINING_RANDOM": 110,
    "MISSING_SENDER_IDENTIFICATION": 111,
    "CERTIFICATE_NOT_FOUND": 112,
    "ERROR_CALCULATING_PROTECTION": 115,
    "ERROR_CREATING_CERTREP": 117,
    "ERROR_CREATING_ERROR": 118,
    "ERROR_CREATING_GENP": 120,
    "ERROR_CREATING_PKICONF": 122,
    "ERROR_CREATING_POLLREP": 123,
    "ERROR_CREATING_RP": 125,
    "ERROR_CREATING_RR": 126,  # (raised when creating an RP fails)
    "ERROR_PROTECTING_MESSAGE": 127,
    "MISSING_KEY_INPUT_FOR_CREATING_PROTECTION": 130,
    "UNEXPECTED_PKIBODY": 133,
    "UNKNOWN_ALGORITHM_ID": 134,
    "UNSUPPORTED_ALGORITHM": 136,
    "UNSUPPORTED_KEY_TYPE": 137,
    "WRONG_ALGORITHM_OID": 138,
    "ALGORITHM_NOT_SUPPORTED": 139,
    "ERROR_VALIDATING_PROTECTION": 140,
    "FAILED_EXTRACTING_PUBKEY": 141,
    "MISSING_KEY_USAGE_DIGITALSIGNATURE": 142,
    "MISSING_PROTECTION": 143,
    "MISSING_TRUST_STORE": 144,
    "NO_SUITABLE_SENDER_CERT": 145,
    "PKIBODY_ERROR": 146,
    "POTENTIALLY_INVALID_CERTIFICATE": 147,
    "RECIPNONCE_UNMATCHED": 148,
    "SENDER_GENERALNAME_TYPE_NOT_SUPPORTED": 150,
    "SRVCERT_DOES_NOT_VALIDATE_MSG": 151,
    "TRANSACTIONID_UNMATCHED": 152,
    "UNEXPECTED_PVNO": 153,
    "UNSUPPORTED_PROTECTION_ALG_DHBASEDMAC": 154,
    "WRONG_PBM_VALUE": 155,
    "CERTHASH_UNMATCHED": 156,
    "CERTREQMSG_NOT_FOUND": 157,
    "ERROR_PROCESSING_MESSAGE": 158,
    "ERROR_UNEXPECTED_CERTCONF": 160,
    "MULTIPLE_REQUESTS_NOT_SUPPORTED": 161,
    "ERROR_CREATING_CERTREQ": 163,
    "FAILED_BUILDING_OWN_CHAIN": 164,
    "MISSING_PBM_SECRET": 166,
    "ERROR_VALIDATING_SIGNATURE": 171,
    "MISSING_SECRET": 178,
    "MISSING_TRUST_ANCHOR": 179,
    "UNEXPECTED_CERTPROFILE": 196,  # 3.4+
}

_R = CMP_REASONS

# reason name -> the failInfo bit it deserves (RFC 9483 §3.5, RFC 4210 §5.2.3)
_BY_NAME: dict[str, FailInfo] = {
    # the protection does not verify, or is missing where it is required
    "MISSING_PROTECTION": FailInfo.BAD_MESSAGE_CHECK,
    "WRONG_PBM_VALUE": FailInfo.BAD_MESSAGE_CHECK,
    "ERROR_VALIDATING_PROTECTION": FailInfo.BAD_MESSAGE_CHECK,
    "ERROR_VALIDATING_SIGNATURE": FailInfo.BAD_MESSAGE_CHECK,
    "SRVCERT_DOES_NOT_VALIDATE_MSG": FailInfo.BAD_MESSAGE_CHECK,
    "MISSING_SECRET": FailInfo.BAD_MESSAGE_CHECK,  # no secret to check the MAC with
    "MISSING_PBM_SECRET": FailInfo.BAD_MESSAGE_CHECK,
    # the protection algorithm is unknown or not supported
    "ALGORITHM_NOT_SUPPORTED": FailInfo.BAD_ALG,
    "UNKNOWN_ALGORITHM_ID": FailInfo.BAD_ALG,
    "UNSUPPORTED_ALGORITHM": FailInfo.BAD_ALG,
    "WRONG_ALGORITHM_OID": FailInfo.BAD_ALG,
    "UNSUPPORTED_PROTECTION_ALG_DHBASEDMAC": FailInfo.BAD_ALG,
    "UNSUPPORTED_KEY_TYPE": FailInfo.BAD_ALG,
    # no acceptable, trusted certificate of the signer
    "NO_SUITABLE_SENDER_CERT": FailInfo.SIGNER_NOT_TRUSTED,
    "MISSING_TRUST_STORE": FailInfo.SIGNER_NOT_TRUSTED,
    "MISSING_TRUST_ANCHOR": FailInfo.SIGNER_NOT_TRUSTED,
    "POTENTIALLY_INVALID_CERTIFICATE": FailInfo.SIGNER_NOT_TRUSTED,
    "MISSING_KEY_USAGE_DIGITALSIGNATURE": FailInfo.SIGNER_NOT_TRUSTED,
    "CERTIFICATE_NOT_FOUND": FailInfo.SIGNER_NOT_TRUSTED,
    "FAILED_EXTRACTING_PUBKEY": FailInfo.SIGNER_NOT_TRUSTED,
    "UNEXPECTED_SENDER": FailInfo.SIGNER_NOT_TRUSTED,
    # header fields
    "RECIPNONCE_UNMATCHED": FailInfo.BAD_RECIPIENT_NONCE,
    "UNEXPECTED_PVNO": FailInfo.UNSUPPORTED_VERSION,
    # a message of an open transaction whose transactionID does not match it
    "TRANSACTIONID_UNMATCHED": FailInfo.TRANSACTION_ID_IN_USE,
    "SENDER_GENERALNAME_TYPE_NOT_SUPPORTED": FailInfo.BAD_DATA_FORMAT,
    "MISSING_SENDER_IDENTIFICATION": FailInfo.BAD_DATA_FORMAT,
    "PKIBODY_ERROR": FailInfo.BAD_DATA_FORMAT,
    # certificate confirmation about a certificate we cannot match
    "CERTHASH_UNMATCHED": FailInfo.BAD_CERT_ID,
    "CERTID_NOT_FOUND": FailInfo.BAD_CERT_ID,
    "UNEXPECTED_CERTPROFILE": FailInfo.BAD_CERT_TEMPLATE,
    # the server could not build or protect its answer: not the client's fault
    "FAILURE_OBTAINING_RANDOM": FailInfo.SYSTEM_FAILURE,
    "ERROR_CALCULATING_PROTECTION": FailInfo.SYSTEM_FAILURE,
    "ERROR_PROTECTING_MESSAGE": FailInfo.SYSTEM_FAILURE,
    "MISSING_KEY_INPUT_FOR_CREATING_PROTECTION": FailInfo.SYSTEM_FAILURE,
    "FAILED_BUILDING_OWN_CHAIN": FailInfo.SYSTEM_FAILURE,
    "ERROR_CREATING_CERTREP": FailInfo.SYSTEM_FAILURE,
    "ERROR_CREATING_ERROR": FailInfo.SYSTEM_FAILURE,
    "ERROR_CREATING_GENP": FailInfo.SYSTEM_FAILURE,
    "ERROR_CREATING_PKICONF": FailInfo.SYSTEM_FAILURE,
    "ERROR_CREATING_POLLREP": FailInfo.SYSTEM_FAILURE,
    "ERROR_CREATING_RP": FailInfo.SYSTEM_FAILURE,
    "ERROR_CREATING_RR": FailInfo.SYSTEM_FAILURE,
    "ERROR_CREATING_CERTREQ": FailInfo.SYSTEM_FAILURE,
    # badRequest, said explicitly (these are the client's protocol errors):
    # UNSUPPORTED_PKIBODY, UNEXPECTED_PKIBODY, EXPECTED_POLLREQ, UNEXPECTED_POLLREQ,
    # BAD_REQUEST_ID, CERTREQMSG_NOT_FOUND, MULTIPLE_REQUESTS_NOT_SUPPORTED,
    # ERROR_UNEXPECTED_CERTCONF, ERROR_PROCESSING_MESSAGE (a handler's refusal)
}

FAIL_INFO_BY_REASON: dict[int, FailInfo] = {_R[name]: bit for name, bit in _BY_NAME.items()}
"""CMP reason code -> failInfo bit; a reason not listed deserves ``badRequest``."""

# ERR_LIB_* numbers (include/openssl/err.h.in; stable)
_LIB_X509 = 11
_LIB_ASN1 = 13
_LIB_CMP = 58
# cmp_vfy.c's path validation of the signer queues it (X509_verify_cert failing)
_X509_R_CERTIFICATE_VERIFICATION_FAILED = 139
_ERR_SYSTEM_FLAG = 1 << 31  # ERR_SYSTEM_ERROR: errno-style codes, no library


def fail_info_for(error_code: int | None) -> FailInfo:
    """The failInfo bit for the packed OpenSSL error code ``error_code`` the server core
    put in an error message's ``errorCode`` (``badRequest`` when unknown or absent)."""
    if error_code is None or error_code < 0 or error_code & _ERR_SYSTEM_FLAG:
        return FailInfo.BAD_REQUEST
    library = (error_code >> 23) & 0xFF  # ERR_GET_LIB / ERR_GET_REASON, without a C call
    reason = error_code & 0x7FFFFF
    if library == _LIB_CMP:
        return FAIL_INFO_BY_REASON.get(reason, FailInfo.BAD_REQUEST)
    if library == _LIB_ASN1:  # a field the core decoded on demand is malformed
        return FailInfo.BAD_DATA_FORMAT
    if library == _LIB_X509 and reason == _X509_R_CERTIFICATE_VERIFICATION_FAILED:
        return FailInfo.SIGNER_NOT_TRUSTED
    return FailInfo.BAD_REQUEST
