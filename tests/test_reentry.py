"""Re-entry from callbacks: a Context cannot be changed while OpenSSL is inside a call on it.

The rule (docs/index.md, "Callbacks and re-entry"): from inside one of a Context's own
callbacks (log, transfer, certConf, http), reading it is allowed, changing it (setters,
reinit, close, exec_*) raises RuntimeError, re-raised by the call that drove C.  Each crash
scenario also runs in a subprocess, looped, so that a regression crashes a child, not pytest.
"""

import subprocess
import sys
import textwrap

import pytest

from openssl_cmp import Context, LogLevel, Option, PrivateKey
from openssl_cmp.testing import MockCA


@pytest.fixture(scope="module")
def mock():
    # these tests enroll one client's key again after a refused or interrupted transaction
    return MockCA(allow_key_reuse=True)


def _client(mock, **kw):
    return mock.client(subject_name="/CN=reentry", new_pkey=PrivateKey.generate("EC"), **kw)


def _run_child(code: str, timeout: int = 240) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, "child died (rc %d):\n%s\n%s" % (
        proc.returncode, proc.stdout[-2000:], proc.stderr[-4000:])
    return proc


def test_reinit_from_log_callback_raises(mock):
    ctx = _client(mock)
    ctx.log_verbosity = LogLevel.DEBUG
    ctx.log_callback = lambda *args: ctx.reinit()
    with pytest.raises(RuntimeError, match="inside one of its own callbacks"):
        ctx.exec_ir()
    ctx.log_callback = None
    ctx.log_verbosity = LogLevel.ERR
    ctx.reinit()
    assert ctx.exec_ir().subject.entries()  # the context still works afterwards
    ctx.close()


def test_reinit_from_log_callback_never_crashes():
    """The double free of OpenSSL 3.0 (reinit frees newCert while certConf uses it), looped."""
    proc = _run_child("""
        from openssl_cmp import LogLevel, PrivateKey
        from openssl_cmp.testing import MockCA
        mock = MockCA()
        key = PrivateKey.generate("EC")
        refused = 0
        for i in range(200):
            ctx = mock.client(subject_name="/CN=r%d" % i, new_pkey=key)
            ctx.log_verbosity = LogLevel.DEBUG
            ctx.log_callback = lambda *a, ctx=ctx: ctx.reinit()
            try:
                ctx.exec_ir()
            except RuntimeError:
                refused += 1
            ctx.log_callback = None
            ctx.close()
        print("refused", refused)
    """)
    assert "refused 200" in proc.stdout


@pytest.mark.parametrize("change", [
    "ctx.secret_value = b'other'",
    "ctx.reference_value = b'other'",
    "ctx.subject_name = '/CN=other'",
    "ctx.set_option(Option.IMPLICIT_CONFIRM, 1)",
    "ctx.untrusted = []",
    "ctx.trusted = None",
    "ctx.set_new_pkey(PrivateKey.generate('EC'))",
    "ctx.push_subject_alt_name('DNS:a.example')",
    "ctx.push_policy('1.2.3.4')",
    "ctx.reinit()",
    "ctx.close()",
    "ctx.exec_ir()",
    "ctx.exec_genm()",
    "ctx.try_certreq(0)",
    "ctx.transfer_callback = None",
    "ctx.log_callback = None",
    "ctx.tls = None",
    "ctx.set_url('http://127.0.0.1:1/')",
])
def test_changes_from_cert_conf_callback_raise(mock, change):
    ctx = _client(mock)
    seen = []

    def cert_conf(c, cert, fail_info):
        try:
            exec(change, {"ctx": c, "Option": Option, "PrivateKey": PrivateKey})
        except RuntimeError as exc:
            seen.append(exc)
            raise
        return 0

    ctx.cert_conf_callback = cert_conf
    with pytest.raises(RuntimeError):
        ctx.exec_ir()
    assert seen, "the change was accepted inside the callback"
    ctx.cert_conf_callback = None
    ctx.close()


def test_reads_from_callbacks_are_allowed(mock):
    ctx = _client(mock)
    seen = {}

    def cert_conf(c, cert, fail_info):
        seen["status"] = c.status
        seen["new_cert"] = c.new_cert
        seen["subject"] = c.subject_name
        seen["option"] = c.get_option(Option.IMPLICIT_CONFIRM)
        seen["untrusted"] = c.untrusted
        return 0

    ctx.cert_conf_callback = cert_conf
    cert = ctx.exec_ir()
    assert seen["new_cert"] == cert and str(seen["subject"]) == "CN=reentry"
    ctx.close()


def test_transfer_callback_may_drive_another_context(mock):
    """The rule is per Context: a callback may use *other* contexts freely."""
    outer = Context()
    inner = _client(mock)
    outer.reference_value, outer.secret_value = mock.reference, mock.secret
    outer.subject_name = "/CN=outer"
    outer.set_new_pkey(PrivateKey.generate("EC"))

    def transfer(c, request):
        inner.reinit()
        inner.exec_ir()
        return mock.process(request)

    outer.transfer_callback = transfer
    assert outer.exec_ir() is not None
    outer.close()
    inner.close()


def test_same_context_from_other_thread_waits_not_raises(mock):
    """Another thread changing the context during a transaction waits for the lock."""
    import threading

    ctx = _client(mock)
    started, done = threading.Event(), threading.Event()
    errors = []

    def cert_conf(c, cert, fail_info):
        started.set()
        done.wait(0.2)  # the other thread is blocked on the lock meanwhile
        return 0

    def other():
        started.wait(10)
        try:
            ctx.subject_name = "/CN=later"
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        done.set()

    ctx.cert_conf_callback = cert_conf
    t = threading.Thread(target=other)
    t.start()
    ctx.exec_ir()
    t.join(10)
    assert not errors and str(ctx.subject_name) == "CN=later"
    ctx.close()
