"""Failures say what to do: the cause in this library's terms, before OpenSSL's own chain."""

import socket

import pytest

from openssl_cmp import CMPError, Context, LogLevel, PrivateKey, binding
from openssl_cmp.binding import lib
from openssl_cmp.errors import ErrorEntry, drain
from openssl_cmp.testing import MockCA


@pytest.fixture(scope="module")
def mock():
    return MockCA()


def _pbm_client():
    ctx = Context()
    ctx.reference_value, ctx.secret_value = b"ref", b"secret"
    ctx.subject_name = "/CN=hint"
    ctx.set_new_pkey(PrivateKey.generate("EC"))
    ctx.log_verbosity = LogLevel.CRIT
    return ctx


def test_missing_server_names_set_url():
    with _pbm_client() as ctx, pytest.raises(CMPError) as info:
        ctx.exec_ir()
    assert str(info.value).startswith("IR failed: no CMP server is set: call ctx.set_url(")
    assert info.value.status is None


def test_refused_connection_names_host_and_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now
    with _pbm_client() as ctx:
        ctx.set_url("http://127.0.0.1:%d/pkix/" % port)
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    msg = str(info.value)
    assert "cannot connect to 127.0.0.1:%d: connection refused" % port in msg
    assert "reason(111)" not in msg and "Connection refused" in msg  # errno text, not code


def test_kur_without_old_cert_names_old_cert(mock):
    with mock.client(subject_name="/CN=k", new_pkey=PrivateKey.generate("EC")) as ctx:
        ctx.log_verbosity = LogLevel.CRIT
        with pytest.raises(CMPError) as info:
            ctx.exec_kur()
    assert "KUR needs the certificate to update: set ctx.old_cert" in str(info.value)


def test_rr_without_old_cert_names_old_cert(mock):
    with mock.client() as ctx:
        ctx.log_verbosity = LogLevel.CRIT
        with pytest.raises(CMPError) as info:
            ctx.exec_rr()
    assert "RR needs the certificate to revoke: set ctx.old_cert" in str(info.value)


def test_system_errors_carry_the_errno_text():
    """``drain`` names a system error by its errno text (OpenSSL leaves most unnamed)."""
    lib.ERR_new()
    lib.ERR_set_debug(b"test.c", 1, b"test")
    lib.ERR_set_error(lib.ERR_LIB_SYS, 111, binding.ffi.NULL)
    entries = drain()
    assert [e.reason for e in entries] == ["Connection refused"]
    assert isinstance(entries[0], ErrorEntry) and entries[0].reason_code == 111


def test_a_successful_call_needs_no_hint(mock):
    with mock.client(subject_name="/CN=ok", new_pkey=PrivateKey.generate("EC")) as ctx:
        assert ctx.exec_ir() is not None
