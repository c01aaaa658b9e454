"""openssl_cmp.testing.Intercept: the messages OpenSSL's client sends pass through the
tester's hooks on their way to a MockCA (in-process) or a URL, and back."""

import pytest

from openssl_cmp import (BodyType, CMPError, FailInfo, LogLevel, Message, PKIStatus,
                         PrivateKey, StatusInfo)
from openssl_cmp.testing import Dropped, Intercept, MockCA


@pytest.fixture
def mock():
    m = MockCA(grant_implicit_confirm=False)
    m.ctx.log_verbosity = LogLevel.EMERG
    return m


@pytest.fixture
def client(mock):
    ctx = mock.client(subject_name="/CN=intercept", new_pkey=PrivateKey.generate())
    ctx.log_verbosity = LogLevel.EMERG
    yield ctx
    ctx.close()


def test_pass_through_records_what_went_over_the_wire(mock, client):
    client.transfer_callback = icpt = Intercept(mock)
    assert client.transfer_callback is icpt
    cert = client.exec_ir()
    assert [m.body_type for m in icpt.requests] == [BodyType.IR, BodyType.CERTCONF]
    assert [m.body_type for m in icpt.responses] == [BodyType.IP, BodyType.PKICONF]
    assert mock.issued == [cert]


def test_hooks_see_and_change_messages(mock, client):
    """RFC 4210 §5.3.4: a rejection the hook puts into the ip is what the client reports
    (the response re-protected with the CA's credentials, so that it passes the checks)."""
    reject = StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_CERT_TEMPLATE, "changed")
    seen = []

    def on_request(msg):
        seen.append(msg.body_type)

    client.transfer_callback = Intercept(
        mock, on_request=on_request,
        on_response=lambda m: m.edit(status=reject, certificate=None, reprotect=mock.ctx))
    with pytest.raises(CMPError) as info:
        client.exec_ir()
    assert info.value.status == PKIStatus.REJECTION
    assert info.value.fail_info == FailInfo.BAD_CERT_TEMPLATE
    assert seen == [BodyType.IR]


def test_hook_may_return_bytes(mock, client):
    client.transfer_callback = Intercept(mock, on_request=lambda m: m.to_der())
    client.exec_ir()


def test_undecodable_bytes_are_a_value_error(mock, client):
    client.transfer_callback = Intercept(mock, on_response=lambda m: b"\x30\x00")
    with pytest.raises(ValueError, match="response"):
        client.exec_ir()


def test_drop(mock, client):
    client.transfer_callback = Intercept(mock, on_response=Intercept.drop(2))
    with pytest.raises(Dropped):
        client.exec_ir()
    assert len(mock.issued) == 1  # the ip went through, the pkiConf was lost


def test_duplicate_request_is_refused_by_openssl_server(mock, client):
    """A duplicated certConf: OpenSSL's server has closed the transaction after the first
    one and answers the second with an error, which the client then reports."""
    icpt = Intercept(mock, on_request=Intercept.duplicate(2))
    client.transfer_callback = icpt
    with pytest.raises(CMPError):
        client.exec_ir()
    assert [m.body_type for m in icpt.requests] == [BodyType.IR, BodyType.CERTCONF,
                                                    BodyType.CERTCONF]
    assert icpt.responses[-1].body_type == BodyType.ERROR


def test_replay_of_an_earlier_response_fails_client_checks(mock, client):
    """RFC 4210 §5.1.1: the ip handed over again in place of the pkiConf carries the old
    recipNonce and the wrong body type: OpenSSL's client refuses it."""
    client.transfer_callback = Intercept(mock, on_response=Intercept.replay(2))
    with pytest.raises(CMPError):
        client.exec_ir()


def test_delay_and_chain(mock, client):
    calls = []
    hook = Intercept.chain(Intercept.delay(0), lambda m: calls.append(m.body_type))
    client.transfer_callback = Intercept(mock, on_request=hook)
    client.exec_ir()
    assert calls == [BodyType.IR, BodyType.CERTCONF]


def test_edit_one_liner(mock, client):
    client.transfer_callback = Intercept(
        mock, on_response=Intercept.edit(1, fail_info=FailInfo.BAD_TIME))
    with pytest.raises(CMPError):  # changed but not re-protected: protection fails
        client.exec_ir()


def test_over_http(mock, client):
    with mock.serve_http() as serving:
        icpt = Intercept(serving.url, on_response=lambda m: None)
        client.transfer_callback = icpt
        client.exec_ir()
    assert [m.body_type for m in icpt.responses] == [BodyType.IP, BodyType.PKICONF]


def test_over_http_raw_garbage_gets_an_error_answer(mock, client):
    """Raw bytes go to a URL as they are: the server's answer (an HTTP error for an
    undecodable request) comes back as an exception from the client's call."""
    with mock.serve_http() as serving:
        client.transfer_callback = Intercept(serving.url, on_request=lambda m: b"junk")
        with pytest.raises((ConnectionError, ValueError)):
            client.exec_ir()


def test_bad_arguments(mock):
    with pytest.raises(TypeError):
        Intercept(object())
    with pytest.raises(ValueError):
        Intercept("ftp://x/")
    with pytest.raises(TypeError):
        Intercept(mock, on_request=1)
    with pytest.raises(ValueError):
        Intercept(mock, timeout=0)
    with pytest.raises(ValueError):
        Intercept.drop(0)
    with pytest.raises(ValueError):
        Intercept.replay(2, of=2)
    with pytest.raises(ValueError):
        Intercept.delay(-1)
