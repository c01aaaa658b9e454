"""RFC 9483 §3.5 (message checks), the way a user tests an implementation: take a real
message OpenSSL produced, change one thing with ``Message.edit``, and assert how OpenSSL's
server (under MockCA) or client reacts.

Server side: the edited request goes to ``MockCA.process``; the answer is an error message
whose failInfo names the check (RFC 9483 §3.5, RFC 4210 §5.2.3).  Client side: the edited
response is handed to OpenSSL's client through an ``Intercept`` (re-protected with the CA's
credentials where the check is not about protection); the client raises CMPError naming the
check.  docs/openssl-versions.md notes where 3.0 and 3.5 differ."""

import pytest

from openssl_cmp import (BodyType, CMPError, FailInfo, LogLevel, Message, PKIStatus,
                         PrivateKey)
from openssl_cmp.binding import OPENSSL_VERSION_NUMBER
from openssl_cmp.testing import Intercept, MockCA

OSSL_3_5 = OPENSSL_VERSION_NUMBER >= 0x30500000


def quiet_mock(**options):
    mock = MockCA(**options)
    mock.ctx.log_verbosity = LogLevel.EMERG
    return mock


@pytest.fixture
def mock():
    return quiet_mock(grant_implicit_confirm=False)


@pytest.fixture
def transaction(mock):
    """The messages of one real IR transaction: ir, ip, certConf, pkiConf."""
    seen = []
    keep = seen.append
    with mock.client(subject_name="/CN=rfc9483", new_pkey=PrivateKey.generate()) as ctx:
        ctx.log_verbosity = LogLevel.EMERG
        ctx.transfer_callback = Intercept(mock, on_request=keep, on_response=keep)
        ctx.exec_ir()
    assert [m.body_type for m in seen] == [BodyType.IR, BodyType.IP, BodyType.CERTCONF,
                                           BodyType.PKICONF]
    return seen


def refused(answer, fail_info):
    """The server's answer is an error message (RFC 4210 §5.3.21) with exactly this
    failInfo."""
    assert answer.body_type == BodyType.ERROR, answer
    [status] = answer.status_infos
    assert status.status == PKIStatus.REJECTION
    assert status.fail_info == fail_info, status
    return status


# -- the server's checks of a request ------------------------------------------------------

def test_server_broken_protection_is_bad_message_check(transaction):
    """§3.5: the protection does not verify → badMessageCheck."""
    answer = quiet_mock().process(transaction[0].edit(protection="break"))
    assert refused(answer, FailInfo.BAD_MESSAGE_CHECK).text == "wrong pbm value"


def test_server_changed_field_without_reprotection_is_bad_message_check(transaction):
    """§3.5: any changed protected field invalidates the MAC → badMessageCheck."""
    answer = quiet_mock().process(transaction[0].edit(sender_nonce=b"\x01" * 16))
    refused(answer, FailInfo.BAD_MESSAGE_CHECK)


def test_server_missing_protection_is_refused(transaction):
    """§3.5: an unprotected request, unless the server accepts those → badMessageCheck
    (OpenSSL's server core refuses it before any handler)."""
    answer = quiet_mock().process(transaction[0].edit(protection="none"))
    assert refused(answer, FailInfo.BAD_MESSAGE_CHECK).text == "missing protection"


@pytest.mark.parametrize("pvno", [1, 4])
def test_server_unsupported_pvno(transaction, mock, pvno):
    """§3.5: pvno neither 2 nor 3 → unsupportedVersion (re-protected, so only the version
    is wrong)."""
    with mock.client() as ctx:
        request = transaction[0].edit(pvno=pvno, reprotect=ctx)
    refused(quiet_mock(ca_key=mock.ca_key, ca_cert=mock.ca_cert, secret=mock.secret,
                       reference=mock.reference).process(request),
            FailInfo.UNSUPPORTED_VERSION)


def test_server_short_sender_nonce(transaction, mock):
    """§3.5 / RFC 4210 §5.1.1: a senderNonce shorter than 128 bits → badSenderNonce."""
    with mock.client() as ctx:
        request = transaction[0].edit(sender_nonce=b"short", reprotect=ctx)
    status = refused(quiet_mock(secret=mock.secret, reference=mock.reference)
                     .process(request), FailInfo.BAD_SENDER_NONCE)
    assert status.fail_info == FailInfo.BAD_SENDER_NONCE


def test_server_cert_conf_with_wrong_hash(mock):
    """§3.5 / §4.1.1: a certConf whose certHash does not match the issued certificate:
    the client's own certConf, changed on its way (and re-protected with the client's
    credentials, from inside its transaction), is refused with badCertId."""
    seen = []
    with mock.client(subject_name="/CN=rfc9483", new_pkey=PrivateKey.generate()) as ctx:
        ctx.log_verbosity = LogLevel.EMERG
        ctx.transfer_callback = Intercept(
            mock, on_request=Intercept.edit(2, cert_hash=b"\x00" * 32, reprotect=ctx),
            on_response=seen.append)
        with pytest.raises(CMPError):
            ctx.exec_ir()
    refused(seen[1], FailInfo.BAD_CERT_ID)


def test_server_cert_conf_outside_a_transaction(transaction):
    """§3.5: a certConf for a transaction the server does not know → refused
    (transactionIdInUse / badRequest)."""
    fresh = quiet_mock()
    status = refused(fresh.process(transaction[2]), FailInfo.BAD_REQUEST)
    assert "no open transaction" in status.text


# -- the client's checks of a response -----------------------------------------------------

def run_client(mock, on_response):
    with mock.client(subject_name="/CN=rfc9483", new_pkey=PrivateKey.generate()) as ctx:
        ctx.log_verbosity = LogLevel.EMERG
        ctx.transfer_callback = Intercept(mock, on_response=on_response)
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    return info.value


def test_client_wrong_recip_nonce(mock):
    """§3.5: recipNonce not the request's senderNonce → the client refuses the response
    (badRecipientNonce)."""
    exc = run_client(mock, Intercept.edit(1, recip_nonce=b"\x02" * 16, reprotect=mock.ctx))
    assert "recipnonce unmatched" in str(exc)
    assert exc.status is None  # a local failure: the server did not reject anything
    assert exc.transcript[0].response.recip_nonce == b"\x02" * 16


def test_client_wrong_transaction_id(mock):
    """§3.5: a response with another transactionID → refused."""
    exc = run_client(mock, Intercept.edit(1, transaction_id=b"\x03" * 16,
                                          reprotect=mock.ctx))
    assert "transactionid unmatched" in str(exc)


def test_client_broken_protection(mock):
    """§3.5: a response whose protection does not verify → refused."""
    exc = run_client(mock, Intercept.edit(1, protection="break"))
    assert "wrong pbm value" in str(exc) and "error validating protection" in str(exc)


def test_client_missing_protection(mock):
    """§3.5: an unprotected ip → refused (only error messages may be accepted unprotected,
    with UNPROTECTED_ERRORS)."""
    exc = run_client(mock, Intercept.edit(1, protection="none"))
    assert "missing protection" in str(exc)


def test_client_unsupported_pvno(mock):
    """§3.5: a response with pvno 1 → refused."""
    exc = run_client(mock, Intercept.edit(1, pvno=1, reprotect=mock.ctx))
    assert "unexpected pvno" in str(exc)


def test_client_wrong_cert_req_id(mock):
    """RFC 4210 §5.3.4 / RFC 9483 §4.1.1: an ip answering another certReqId → refused."""
    exc = run_client(mock, Intercept.edit(1, cert_req_id=7, reprotect=mock.ctx))
    assert "certresponse not found" in str(exc)


def test_client_error_message_reports_fail_info(mock):
    """§3.5: the server's error message reaches the user with its failInfo: an ip turned
    into a rejection for badTime (re-protected) is reported as a server rejection."""
    exc = run_client(mock, Intercept.edit(1, fail_info=FailInfo.BAD_TIME, certificate=None,
                                          status=__import__("openssl_cmp").StatusInfo(
                                              PKIStatus.REJECTION, FailInfo.BAD_TIME),
                                          reprotect=mock.ctx))
    assert exc.server_rejected and exc.fail_info == FailInfo.BAD_TIME
