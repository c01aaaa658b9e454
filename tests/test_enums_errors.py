"""Enums carry the headers' values; errors carry the drained queue with its data."""

import pytest

import openssl_cmp
from openssl_cmp import (BodyType, Certificate, CMPError, FailInfo, GeneralName, LogLevel,
                         OpenSSLError, Option, PKIStatus, PopoMethod, PrivateKey, ReqType,
                         UnsupportedError, binding)
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import drain, probe, quiet_read, raise_openssl, require

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
        raise_openssl("doing something")
    err = info.value
    assert err.has(lib.ERR_LIB_CMP, lib.CMP_R_INVALID_ARGS)
    assert not err.has(lib.ERR_LIB_CMP, lib.CMP_R_WRONG_PBM_VALUE)
    assert str(err).startswith("doing something: ")
    assert lib.ERR_peek_error() == 0


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


def _push(reason):
    lib.ERR_new()
    lib.ERR_set_debug(b"t.c", 1, b"t")
    lib.ERR_set_error(lib.ERR_LIB_CMP, reason, ffi.NULL)


def _reasons():
    return [e.reason_code for e in drain()]


def test_raise_openssl_takes_the_class():
    _push(lib.CMP_R_INVALID_ARGS)
    with pytest.raises(CMPError, match="boom") as info:
        raise_openssl("boom", cls=CMPError)
    assert info.value.has(lib.ERR_LIB_CMP, lib.CMP_R_INVALID_ARGS)
    with pytest.raises(OpenSSLError) as info:
        raise_openssl("nothing queued")
    assert info.value.errors == [] and str(info.value) == "nothing queued"


def test_probe_discards_only_what_it_added():
    _push(lib.CMP_R_INVALID_ARGS)  # an operation in progress queued this
    with probe():
        _push(lib.CMP_R_WRONG_PBM_VALUE)
        with probe():  # probes nest
            _push(lib.CMP_R_NULL_ARGUMENT)
        assert lib.ERR_GET_REASON(lib.ERR_peek_last_error()) == lib.CMP_R_WRONG_PBM_VALUE
    assert _reasons() == [lib.CMP_R_INVALID_ARGS]
    with probe():  # on an empty queue: everything added goes
        _push(lib.CMP_R_WRONG_PBM_VALUE)
        _push(lib.CMP_R_NULL_ARGUMENT)
    assert lib.ERR_peek_error() == 0


def test_probe_on_a_real_expected_failure():
    key = PrivateKey.generate()
    ca = Certificate.create("/CN=ca", key, key, ca=True)
    der = bytearray(Certificate.create("/CN=ee", PrivateKey.generate(), key,
                                       issuer=ca).to_der())
    der[-1] ^= 1  # a broken signature: X509_verify fails and queues why
    forged = Certificate.from_der(bytes(der))
    _push(lib.CMP_R_INVALID_ARGS)  # an operation in progress queued this
    assert not forged.is_issued_by(ca)
    assert _reasons() == [lib.CMP_R_INVALID_ARGS]  # kept, not cleared


def test_quiet_probe_leaves_the_queue_as_it_was():
    _push(lib.CMP_R_INVALID_ARGS)
    with probe(quiet=True):
        _push(lib.CMP_R_WRONG_PBM_VALUE)
        with pytest.raises(OpenSSLError) as info:
            raise_openssl("inside")  # drains nothing
        assert info.value.errors == []
    assert _reasons() == [lib.CMP_R_INVALID_ARGS]
    with probe():  # a plain probe: an exception takes the queue, as anywhere
        _push(lib.CMP_R_WRONG_PBM_VALUE)
        with pytest.raises(OpenSSLError) as info:
            raise_openssl("inside")
    assert [e.reason_code for e in info.value.errors] == [lib.CMP_R_WRONG_PBM_VALUE]
    assert lib.ERR_peek_error() == 0


def test_quiet_read():
    _push(lib.CMP_R_INVALID_ARGS)
    assert quiet_read(lambda: "text") == "text"

    def failing():
        _push(lib.CMP_R_NULL_ARGUMENT)
        raise_openssl("read failed")

    assert quiet_read(failing) is None
    assert _reasons() == [lib.CMP_R_INVALID_ARGS]
