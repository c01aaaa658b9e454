"""ctx.transcript, CMPError.transcript and format_transcript: every exchange of the last
transaction (request, response, seconds), in-process and over HTTP (RFC 6712)."""

import socket

import pytest

from openssl_cmp import ITAV, BodyType, CMPError, Context, FailInfo, LogLevel, PKIStatus, PrivateKey
from openssl_cmp.testing import CA_CERTS_OID, Exchange, Intercept, MockCA, format_transcript


def _client(mock, **attrs):
    ctx = mock.client(subject_name="/CN=transcript", new_pkey=PrivateKey.generate(), **attrs)
    ctx.log_verbosity = LogLevel.EMERG
    return ctx


def _types(transcript):
    return [(e.request.body_type, e.response and e.response.body_type) for e in transcript]


def test_python_transfer_callback_is_always_recorded():
    mock = MockCA(grant_implicit_confirm=False)
    with _client(mock) as ctx:
        assert ctx.transcript == [] and not ctx.record_transcript
        ctx.transfer_callback = Intercept(mock)
        ctx.exec_ir()
        t = ctx.transcript
    assert _types(t) == [(BodyType.IR, BodyType.IP), (BodyType.CERTCONF, BodyType.PKICONF)]
    assert all(isinstance(e, Exchange) and e.seconds >= 0 for e in t)
    assert t[0].request.transaction_id == t[1].response.transaction_id


def test_attached_server_is_recorded_on_request():
    mock = MockCA(allow_key_reuse=True)
    with _client(mock) as ctx:
        ctx.exec_ir()
        assert ctx.transcript == []  # the C fast path: nothing recorded by default
        ctx.reinit()
        ctx.record_transcript = True
        assert ctx.transfer_callback is None  # the hop is not a user callback
        ctx.exec_cr()
        assert _types(ctx.transcript) == [(BodyType.CR, BodyType.CP),
                                          (BodyType.CERTCONF, BodyType.PKICONF)]
        ctx.reinit()
        assert ctx.transcript == []  # reinit starts a new transaction
        ctx.record_transcript = False
        ctx.exec_cr()
        assert ctx.transcript == []
    assert len(mock.issued) == 3


def test_new_transaction_clears_the_transcript():
    mock = MockCA()
    with _client(mock, record_transcript=True) as ctx:
        ctx.exec_ir()
        ctx.reinit()
        ctx.push_genm_itav(ITAV(CA_CERTS_OID))
        ctx.exec_genm()
        assert _types(ctx.transcript) == [(BodyType.GENM, BodyType.GENP)]
        assert "-> GENM" in format_transcript(ctx.transcript)


def test_failed_http_enrollment_carries_its_transcript():
    """A rejected enrollment over HTTP: CMPError.transcript shows each message's type,
    transactionID, status and failInfo."""
    mock = MockCA(pkistatus=PKIStatus.REJECTION, fail_info=FailInfo.BAD_CERT_TEMPLATE,
                  status_string="no such profile")
    mock.ctx.log_verbosity = LogLevel.EMERG
    with mock.serve_http() as serving:
        ctx = Context()
        ctx.log_verbosity = LogLevel.EMERG
        ctx.reference_value, ctx.secret_value = b"client", mock.secret
        ctx.set_url(serving.url)
        ctx.subject_name = "/CN=rejected"
        ctx.set_new_pkey(PrivateKey.generate())
        ctx.record_transcript = True
        with ctx, pytest.raises(CMPError) as info:
            ctx.exec_ir()
    t = info.value.transcript
    assert _types(t) == [(BodyType.IR, BodyType.IP)]
    assert t == ctx.transcript
    text = format_transcript(t)
    tid = t[0].request.transaction_id.hex()
    assert text.count("tid=" + tid) == 2
    assert "-> IR" in text and "<- IP" in text
    assert "status=rejection" in text and "failInfo=badCertTemplate" in text
    assert "no such profile" in text
    assert str(t[0]) in text


def test_transport_failure_with_recording():
    """Nothing listens: the request is recorded with no response, and the CMPError (its
    status None: no answer) carries it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Context() as ctx:
        ctx.log_verbosity = LogLevel.EMERG
        ctx.reference_value, ctx.secret_value = b"r", b"s"
        ctx.set_url("http://127.0.0.1:%d/pkix/" % port)
        ctx.subject_name = "/CN=x"
        ctx.set_new_pkey(PrivateKey.generate())
        ctx.set_option(__import__("openssl_cmp").Option.MSG_TIMEOUT, 1)
        ctx.record_transcript = True
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    assert info.value.status is None
    assert _types(info.value.transcript) == [(BodyType.IR, None)]
    assert "(no message)" in format_transcript(info.value.transcript)


def test_record_transcript_type_and_empty_format():
    with Context() as ctx:
        with pytest.raises(TypeError):
            ctx.record_transcript = 1
        ctx.record_transcript = True
        assert ctx.transfer_callback is None
        ctx.record_transcript = False
    assert format_transcript([]) == "(no messages exchanged)"


def test_error_message_in_transcript():
    mock = MockCA(send_error=True)
    mock.ctx.log_verbosity = LogLevel.EMERG
    with _client(mock, record_transcript=True) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    assert _types(info.value.transcript) == [(BodyType.IR, BodyType.ERROR)]
    assert "<- ERROR" in format_transcript(info.value.transcript)
