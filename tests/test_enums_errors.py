"""Enums carry the headers' values; errors carry the drained queue with its data."""

import pytest

import openssl_cmp
from openssl_cmp import (BodyType, Certificate, CMPError, FailInfo, GeneralName, LogLevel,
                         OpenSSLError, Option, PKIStatus, PopoMethod, ReqType,
                         UnsupportedError, binding)
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import check, drain, require

FAIL_NAMES = ("badAlg badMessageCheck badRequest badTime badCertId badDataFormat "
              "wrongAuthority incorrectData missingTimeStamp badPOP certRevoked "
              "certConfirmed wrongIntegrity badRecipientNonce timeNotAvailable "
              "unacceptedPolicy unacceptedExtension addInfoNotAvailable badSenderNonce "
              "badCertTemplate signerNotTrusted transactionIdInUse unsupportedVersion "
              "notAuthorized systemUnavail systemFailure duplicateCertReq").split()


def test_option_values_match_headers():
    for option in Option:
        if binding.has(option.c_name):
            assert getattr(lib, option.c_name) == option, option
        else:
            assert binding.since(option.c_name) is not None, option
    assert len(Option) == 21


def test_fail_info_bits_match_headers():
    assert len(FailInfo) == 27
    for bit, c_name in enumerate(FAIL_NAMES):
        member = list(FailInfo)[bit]
        assert getattr(lib, "OSSL_CMP_CTX_FAILINFO_" + c_name) == member == 1 << bit
        assert getattr(lib, "OSSL_CMP_PKIFAILUREINFO_" + c_name) == bit
        assert FailInfo.from_bit(bit) == member
    assert (FailInfo.BAD_REQUEST | FailInfo.BAD_POP).names() == ["BAD_REQUEST", "BAD_POP"]
    with pytest.raises(ValueError):
        FailInfo.from_bit(27)


def test_status_loglevel_popo_body_reqtype_match_headers():
    names = ("accepted grantedWithMods rejection waiting revocationWarning "
             "revocationNotification keyUpdateWarning").split()
    for value, c_name in enumerate(names):
        assert getattr(lib, "OSSL_CMP_PKISTATUS_" + c_name) == PKIStatus(value)
    for c_name, member in (("request", PKIStatus.REQUEST), ("trans", PKIStatus.TRANS),
                           ("unspecified", PKIStatus.UNSPECIFIED),
                           ("checking_response", PKIStatus.CHECKING_RESPONSE),
                           ("rejected_by_client", PKIStatus.REJECTED_BY_CLIENT)):
        name = "OSSL_CMP_PKISTATUS_" + c_name
        if binding.has(name):
            assert getattr(lib, name) == member
    for level in LogLevel:
        assert getattr(lib, "OSSL_CMP_LOG_" + level.name) == level
    for popo in PopoMethod:
        assert getattr(lib, "OSSL_CRMF_POPO_" + popo.name) == popo
    for body in BodyType:
        assert getattr(lib, "OCMP_PKIBODY_" + body.name) == body
    for req in ReqType:
        assert getattr(lib, "OSSL_CMP_" + req.name) == req


def test_drain_keeps_data_strings_and_codes():
    lib.ERR_new()
    lib.ERR_set_debug(b"file.c", 42, b"some_func")
    lib.ERR_set_error(lib.ERR_LIB_CMP, lib.CMP_R_WRONG_PBM_VALUE, b"%s",
                      ffi.new("char[]", b"detail text"))
    entries = drain()
    assert len(entries) == 1
    e = entries[0]
    assert (e.lib_code, e.reason_code, e.line, e.func, e.file) == (
        lib.ERR_LIB_CMP, lib.CMP_R_WRONG_PBM_VALUE, 42, "some_func", "file.c")
    assert e.data == "detail text"
    assert "wrong pbm value" in e.reason
    assert "detail text" in str(e)
    assert drain() == []


def test_openssl_error_message_and_has():
    lib.ERR_new()
    lib.ERR_set_debug(b"f.c", 1, b"f")
    lib.ERR_set_error(lib.ERR_LIB_CMP, lib.CMP_R_INVALID_ARGS, ffi.NULL)
    with pytest.raises(OpenSSLError) as info:
        check(0, "doing something")
    err = info.value
    assert err.has(lib.ERR_LIB_CMP, lib.CMP_R_INVALID_ARGS)
    assert not err.has(lib.ERR_LIB_CMP, lib.CMP_R_WRONG_PBM_VALUE)
    assert str(err).startswith("doing something: ")
    assert lib.ERR_peek_error() == 0
    check(1, "fine")  # no raise


def test_cmp_error_fields_and_text():
    err = CMPError("IR failed", [], status=PKIStatus.REJECTION,
                   fail_info=FailInfo.BAD_REQUEST, status_strings=["no"])
    assert err.server_rejected
    assert "status=rejection" in str(err) and "BAD_REQUEST" in str(err) and "'no'" in str(err)
    local = CMPError("IR failed", [])
    assert not local.server_rejected and local.status is None
    assert isinstance(err, OpenSSLError) and isinstance(err, openssl_cmp.Error)


def test_unsupported_error_names_the_version(monkeypatch):
    assert issubclass(UnsupportedError, NotImplementedError)
    monkeypatch.setitem(binding._SINCE, "OCMP_FROM_THE_FUTURE", "9.9.0")
    with pytest.raises(UnsupportedError, match=r"needs OpenSSL 9\.9\.0 or later") as info:
        require("OCMP_FROM_THE_FUTURE", "time travel")
    assert binding.OPENSSL_VERSION in str(info.value)
    require("OSSL_CMP_CTX_new")  # present: no raise


@pytest.mark.skipif(binding.has("OSSL_CMP_get1_caCerts"), reason="OpenSSL >= 3.2")
def test_unsupported_on_old_openssl():
    with pytest.raises(UnsupportedError, match=r"3\.2\.0"):
        require("OSSL_CMP_get1_caCerts")


def test_openssl_error_carries_queue_entries():
    with pytest.raises(OpenSSLError) as info:
        Certificate.from_der(b"\x30\x03\x02\x01\x01")
    exc = info.value
    assert isinstance(exc, openssl_cmp.Error)
    assert exc.errors and all(isinstance(e, openssl_cmp.ErrorEntry) for e in exc.errors)
    first = exc.errors[0]
    assert first.lib_code == 13  # ERR_LIB_ASN1
    assert exc.has(first.lib_code, first.reason_code)
    assert not exc.has(first.lib_code, 0xFFF)
    assert str(first).startswith(first.lib + ": " + first.reason)
    assert exc.message in str(exc)


def test_error_entry_str_with_data():
    with pytest.raises(OpenSSLError) as info:
        GeneralName.ip("999.1.1.1")
    assert any(e.data == "value=999.1.1.1" and "(value=999.1.1.1)" in str(e)
               for e in info.value.errors)


def test_cmp_error_and_unsupported_error():
    exc = CMPError("failed", [], PKIStatus.REJECTION, FailInfo.BAD_POP, ["why"])
    assert isinstance(exc, OpenSSLError)
    assert exc.server_rejected
    assert exc.status_strings == ["why"]
    assert str(exc) == "failed [status=rejection, fail_info=['BAD_POP'], status_strings=['why']]"
    assert not CMPError("local").server_rejected
    assert issubclass(UnsupportedError, NotImplementedError)
    with pytest.raises(UnsupportedError, match="needs OpenSSL"):
        require("OSSL_CMP_no_such_function")
    require("OSSL_CMP_CTX_new")


def test_errors_check():
    check(1, "fine")
    with pytest.raises(OpenSSLError, match="boom"):
        check(0, "boom")
    with pytest.raises(OpenSSLError):
        check(ffi.NULL, "boom")
