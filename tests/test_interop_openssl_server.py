"""Our Context against OpenSSL's own CMP server (``openssl cmp -port 0 …``, started by
each test on a free port; we connect to 127.0.0.1 only)."""

import logging
import socket
import threading

import pytest

from openssl_cmp import (CSR, ITAV, Certificate, CMPError, Context, FailInfo, LogLevel, Name,
                         Option, PKIStatus, PrivateKey, ReqType, TrustStore)
from openssl_cmp.binding import lib

from helpers import REF, SECRET, pbm_server_args

SIGN_KEY_PAIR_TYPES = "1.3.6.1.5.5.7.4.2"


@pytest.fixture(scope="module")
def creds(pki):
    return {
        "ca": Certificate.from_file(pki.ca_crt),
        "ee": Certificate.from_file(pki.ee_crt),
        "srv": Certificate.from_file(pki.srv_crt),
        "ee_key": PrivateKey.from_file(pki.ee_key),
    }


def client(server, creds, pbm=True, **attrs):
    ctx = Context()
    ctx.set_url("http://%s/pkix/" % server.url)
    ctx.set_option(Option.TOTAL_TIMEOUT, 30)
    ctx.log_verbosity = LogLevel.INFO
    if pbm:
        ctx.reference_value = REF
        ctx.secret_value = SECRET
    ctx.subject_name = "/CN=test-client"
    ctx.set_new_pkey(creds["ee_key"])
    for name, value in attrs.items():
        setattr(ctx, name, value)
    return ctx


def signature_server_args(pki, *extra):
    return ["-srv_cert", str(pki.srv_crt), "-srv_key", str(pki.srv_key),
            "-srv_trusted", str(pki.ca_crt), "-rsp_cert", str(pki.ee_crt),
            "-rsp_capubs", str(pki.ca_crt), *extra]


def test_ir_with_pbm(pki, mock_server, creds, caplog):
    server = mock_server(*pbm_server_args(pki))
    with client(server, creds) as ctx, caplog.at_level(logging.INFO, "openssl_cmp"):
        cert = ctx.exec_ir()
        assert cert == creds["ee"]
        assert ctx.status == PKIStatus.ACCEPTED and ctx.fail_info == FailInfo(0)
        assert ctx.ca_pubs == [creds["ca"]]
        assert ctx.new_cert == cert
    assert cert.subject == Name.parse("/CN=test-client")  # survives ctx.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "openssl_cmp"]
    assert messages[:4] == ["sending IR", "received IP", "sending CERTCONF", "received PKICONF"]


def test_cr_with_signature_and_trusted_store(pki, mock_server, creds):
    server = mock_server(*signature_server_args(pki))
    with client(server, creds, pbm=False, cert=creds["ee"], pkey=creds["ee_key"],
                trusted=TrustStore([creds["ca"]])) as ctx:
        assert ctx.exec_cr() == creds["ee"]
        assert ctx.status == PKIStatus.ACCEPTED
        assert creds["srv"] in ctx.extra_certs_in


def test_kur_with_signature_and_pinned_server_cert(pki, mock_server, creds):
    server = mock_server(*signature_server_args(pki))
    with client(server, creds, pbm=False, cert=creds["ee"], pkey=creds["ee_key"],
                server_cert=creds["srv"], old_cert=creds["ee"]) as ctx:
        assert ctx.exec_kur() == creds["ee"]
        assert ctx.status == PKIStatus.ACCEPTED


def test_expected_sender_matches_and_mismatches(pki, mock_server, creds):
    server = mock_server(*signature_server_args(pki))
    trusted = TrustStore([creds["ca"]])
    with client(server, creds, pbm=False, cert=creds["ee"], pkey=creds["ee_key"],
                trusted=trusted, expected_sender="/CN=test-server") as ctx:
        assert ctx.exec_cr() == creds["ee"]
    with client(server, creds, pbm=False, cert=creds["ee"], pkey=creds["ee_key"],
                trusted=trusted, expected_sender="/CN=somebody-else") as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_cr()
        assert not info.value.server_rejected
        assert info.value.status is None


def test_untrusted_server_signature_is_local_failure(pki, mock_server, creds):
    server = mock_server(*signature_server_args(pki))
    other_ca = TrustStore([creds["ee"]])  # not the issuer of the server's cert
    with client(server, creds, pbm=False, cert=creds["ee"], pkey=creds["ee_key"],
                trusted=other_ca) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_cr()
        assert info.value.status is None and info.value.errors


def test_p10cr_from_csr(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki))
    with client(server, creds, p10_csr=CSR.from_file(pki.ee_csr)) as ctx:
        assert ctx.exec_p10cr() == creds["ee"]


def test_rr_of_the_issued_certificate(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki))
    with client(server, creds) as ctx:
        issued = ctx.exec_ir()
        ctx.reinit()
        ctx.old_cert = issued
        ctx.set_option(Option.REVOCATION_REASON, 1)
        assert ctx.exec_rr() is None
        assert ctx.status == PKIStatus.ACCEPTED


def test_genm_echo(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki))
    with client(server, creds) as ctx:
        ctx.push_genm_itav(ITAV(SIGN_KEY_PAIR_TYPES))
        itavs = ctx.exec_genm()
        assert [i.type for i in itavs] == [SIGN_KEY_PAIR_TYPES]
        assert itavs[0].name == "id-it-signKeyPairTypes"  # OpenSSL's short name


def test_implicit_confirm(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki, "-grant_implicitconf"))
    seen = []
    with client(server, creds) as ctx:
        ctx.log_callback = lambda comp, f, line, level, msg: seen.append(msg)
        ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
        assert ctx.exec_ir() == creds["ee"]
    assert "sending IR" in seen and "received IP" in seen
    assert "sending CERTCONF" not in seen  # granted: no confirmation round trip


def test_polling_within_exec_ir(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki, "-poll_count", "2", "-check_after", "0"))
    seen = []
    with client(server, creds) as ctx:
        ctx.log_callback = lambda comp, f, line, level, msg: seen.append(msg)
        assert ctx.exec_ir() == creds["ee"]
    # 3.0's mock server delays the IR twice; from 3.3 it also delays the certConf
    assert seen.count("sending POLLREQ") >= 2
    assert seen.index("sending POLLREQ") > seen.index("received IP")


def test_polling_with_try_certreq_loop(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki, "-poll_count", "3", "-check_after", "0"))
    with client(server, creds) as ctx:
        results = []
        while True:
            cert, check_after = ctx.try_certreq(ReqType.IR)
            results.append((cert is not None, check_after))
            if cert is not None:
                break
            assert len(results) < 10
        # the first answers say "waiting" (check_after 0), the last brings the certificate
        assert len(results) >= 2
        assert results == [(False, 0)] * (len(results) - 1) + [(True, 0)]
        assert cert == creds["ee"]


def test_try_certreq_abort(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki, "-poll_count", "5", "-check_after", "7"))
    with client(server, creds) as ctx:
        assert ctx.try_certreq(ReqType.IR) == (None, 7)
        assert ctx.try_certreq(-1) == (None, 0)  # abort the pending request


def test_rejection_surfaces_in_cmp_error(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki, "-pkistatus", "2", "-failure", "2",
                                          "-statusstring", "go away"))
    with client(server, creds) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
        err = info.value
        assert err.server_rejected
        assert err.status == PKIStatus.REJECTION
        assert err.fail_info == FailInfo.BAD_REQUEST
        assert err.status_strings == ["go away"]
        assert err.has(lib.ERR_LIB_CMP, lib.CMP_R_REQUEST_REJECTED_BY_SERVER)
        assert ctx.status == PKIStatus.REJECTION
        assert "rejection" in ctx.status_text()


def test_error_message_from_server(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki, "-send_error"))
    with client(server, creds) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
        assert info.value.server_rejected
        assert info.value.has(lib.ERR_LIB_CMP, lib.CMP_R_RECEIVED_ERROR)


def test_wrong_secret_is_a_local_failure(pki, mock_server, creds):
    server = mock_server(*pbm_server_args(pki))
    with client(server, creds) as ctx:
        ctx.secret_value = b"not-the-secret"
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
        err = info.value
        assert not err.server_rejected and err.status is None
        assert err.has(lib.ERR_LIB_CMP, lib.CMP_R_WRONG_PBM_VALUE)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bare_client(port, creds, option, value):
    """A PBM client for 127.0.0.1:port with one timeout option set, quiet logging."""
    ctx = Context()
    ctx.set_url("http://127.0.0.1:%d/pkix/" % port)
    ctx.reference_value, ctx.secret_value = REF, SECRET
    ctx.subject_name = "/CN=x"
    ctx.set_new_pkey(creds["ee_key"])
    ctx.set_option(option, value)
    ctx.log_verbosity = LogLevel.CRIT
    return ctx


def test_unreachable_server(creds):
    port = _free_port()  # nobody listens there
    ctx = bare_client(port, creds, Option.KEEP_ALIVE, 1)
    with ctx, pytest.raises(CMPError) as info:
        ctx.exec_ir()
    assert info.value.status is None
    assert info.value.has(lib.ERR_LIB_CMP, lib.CMP_R_TRANSFER_ERROR)
    assert "cannot connect to 127.0.0.1:%d: connection refused" % port in str(info.value)


def test_unreachable_server_with_timeout(creds):
    """With a timeout OpenSSL retries a refused connection until it ends; the message then
    names the address and says why it took that long."""
    port = _free_port()
    ctx = bare_client(port, creds, Option.TOTAL_TIMEOUT, 1)
    with ctx, pytest.raises(CMPError) as info:
        ctx.exec_ir()
    assert info.value.status is None
    assert "cannot connect to 127.0.0.1:%d in time" % port in str(info.value)


def test_message_timeout(creds):
    """A server that accepts and never answers: MSG_TIMEOUT ends the wait."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    stop = threading.Event()

    def hold():
        conn, _ = listener.accept()
        accepted.append(conn)
        stop.wait(60)
        conn.close()

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    try:
        ctx = bare_client(listener.getsockname()[1], creds, Option.MSG_TIMEOUT, 1)
        with ctx, pytest.raises(CMPError) as info:
            ctx.exec_ir()
        assert accepted, "the client never connected"
        assert info.value.status is None
        assert any("timeout" in (e.reason + (e.data or "")).lower() for e in info.value.errors)
    finally:
        stop.set()
        t.join(10)
        listener.close()
