"""Every Context callback (log, transfer, certConf, HTTP) and the Server handler callbacks,
end to end against MockCA: what the callables receive, what they may return, how their
exceptions come back out of the public call that drove C, how long they are kept alive,
and that the per-thread routing keeps contexts of different threads apart.

Log lines are matched by presence of key lines ("sending IR"), never by whole sequences or
counts: the wording and number of lines differ between OpenSSL 3.0 and 3.5."""

import ctypes
import gc
import logging
import threading
import weakref

import pytest

import openssl_cmp
from openssl_cmp import (ITAV, BodyType, Certificate, CMPError, Context, FailInfo, LogLevel,
                         Message, PKIStatus, PrivateKey, StatusInfo, TrustStore,
                         default_cert_conf, log_to_logging)
from openssl_cmp.binding import ffi, lib
from openssl_cmp.server import RejectRequest, Server
from openssl_cmp.testing import MockCA

WAIT = 30  # seconds: a bound for a hung thread, never a timing assertion


class Boom(Exception):
    """A user exception that must come back out with its own type."""


class Halt(BaseException):
    """Not an Exception: must not escape into C either."""


@pytest.fixture
def key():
    return PrivateKey.generate("EC")


def enrolling(mock, key, **attrs):
    """A client attached to ``mock``, ready for exec_ir."""
    return mock.client(subject_name="/CN=callback-test", new_pkey=key, **attrs)


def http_client(mock, url, key):
    """A client configured for ``mock`` over HTTP (no attach)."""
    ctx = Context()
    ctx.reference_value = b"http-client"
    ctx.secret_value = mock.secret
    ctx.trusted = TrustStore([mock.ca_cert])
    ctx.subject_name = "/CN=callback-http"
    ctx.set_new_pkey(key)
    ctx.set_url(url)
    return ctx


def push_error(data: bytes):
    """Put one CMP error with ``data`` on this thread's error queue."""
    lib.ERR_new()
    lib.ERR_set_debug(b"test_callbacks.py", 7, b"push_error")
    lib.ERR_set_error(lib.ERR_LIB_CMP, lib.CMP_R_ERROR_PROCESSING_MESSAGE, b"%s",
                      ffi.new("char[]", data))


def messages(records):
    return [r.getMessage() for r in records if r.name == "openssl_cmp"]


# --- log_callback ------------------------------------------------------------------------

def test_default_log_callback_is_the_logging_bridge():
    with Context() as ctx:
        assert ctx.log_callback is log_to_logging is openssl_cmp.log_to_logging


def test_default_bridge_sends_info_lines_to_logging(caplog, key):
    mock = MockCA()
    with enrolling(mock, key) as ctx, caplog.at_level(logging.DEBUG, "openssl_cmp"):
        ctx.exec_ir()
    records = [r for r in caplog.records if r.name == "openssl_cmp"]
    sending_ir = [r for r in records if r.getMessage() == "sending IR"]
    assert sending_ir and all(r.levelno == logging.INFO for r in sending_ir)
    assert any(r.getMessage() == "sending CERTCONF" for r in records)
    record = sending_ir[0]  # the C location travels in the record's extra fields
    assert record.cmp_component and isinstance(record.cmp_line, int)
    assert record.cmp_file is None or isinstance(record.cmp_file, str)
    # the default verbosity is INFO: nothing below it reaches logging
    assert not [r for r in records if r.levelno < logging.INFO]


def test_default_bridge_debug_lines_only_with_debug_verbosity(caplog, key):
    mock = MockCA(allow_key_reuse=True)  # one key, enrolled twice
    with enrolling(mock, key) as ctx, caplog.at_level(logging.DEBUG, "openssl_cmp"):
        ctx.exec_ir()
        assert not [r for r in caplog.records
                    if r.name == "openssl_cmp" and r.levelno == logging.DEBUG]
        ctx.reinit()
        ctx.log_verbosity = LogLevel.DEBUG
        assert ctx.log_verbosity == LogLevel.DEBUG
        ctx.exec_ir()
    debug = [r for r in caplog.records if r.name == "openssl_cmp"
             and r.levelno == logging.DEBUG]
    assert debug
    # with DEBUG verbosity, the INFO lines still arrive at INFO
    assert any(r.levelno == logging.INFO and r.getMessage() == "sending IR"
               for r in caplog.records if r.name == "openssl_cmp")


def test_default_bridge_print_errors_at_error_level(caplog):
    with Context() as ctx, caplog.at_level(logging.DEBUG, "openssl_cmp"):
        push_error(b"bridge-error-data")
        ctx.print_errors()
        assert lib.ERR_peek_error() == 0
    errors = [r for r in caplog.records if r.name == "openssl_cmp"
              and "bridge-error-data" in r.getMessage()]
    assert len(errors) == 1 and errors[0].levelno == logging.ERROR


@pytest.mark.parametrize("level, expected", [
    (LogLevel.EMERG, logging.CRITICAL), (LogLevel.ALERT, logging.CRITICAL),
    (LogLevel.CRIT, logging.CRITICAL), (LogLevel.ERR, logging.ERROR),
    (LogLevel.WARNING, logging.WARNING), (LogLevel.NOTICE, logging.INFO),
    (LogLevel.INFO, logging.INFO), (LogLevel.DEBUG, logging.DEBUG), (LogLevel.TRACE, 5)])
def test_bridge_level_mapping(caplog, level, expected):
    with caplog.at_level(1, "openssl_cmp"):
        log_to_logging("comp", "file.c", 3, level, "mapped line")
    (record,) = [r for r in caplog.records if r.name == "openssl_cmp"]
    assert record.levelno == expected and record.getMessage() == "mapped line"


def test_bridge_respects_logger_level(caplog, key):
    mock = MockCA()
    with enrolling(mock, key) as ctx, caplog.at_level(logging.WARNING, "openssl_cmp"):
        ctx.exec_ir()
    assert "sending IR" not in messages(caplog.records)


def test_custom_log_callback_arguments(key):
    seen = []
    mock = MockCA()
    with enrolling(mock, key) as ctx:
        ctx.log_callback = lambda *args: seen.append(args)
        assert ctx.exec_ir() is not None
    assert seen
    for component, file, line, level, message in seen:
        assert isinstance(component, str) and (file is None or isinstance(file, str))
        assert isinstance(line, int) and type(level) is LogLevel
        assert isinstance(message, str) and not message.endswith("\n")
    assert ("sending IR", LogLevel.INFO) in [(m, lv) for _, _, _, lv, m in seen]


def test_custom_log_callback_message_newline_stripped():
    seen = []
    with Context() as ctx:
        ctx.log_callback = lambda *args: seen.append(args)
        push_error(b"trailing-newline\n")
        ctx.print_errors()
    (entry,) = seen
    assert entry[3] == LogLevel.ERR
    assert "trailing-newline" in entry[4] and not entry[4].endswith("\n")


def test_log_callback_none_restores_openssl_printing(capfd, key):
    seen = []
    mock = MockCA()
    with enrolling(mock, key) as ctx:
        ctx.log_callback = lambda *args: seen.append(args)
        ctx.log_callback = None
        assert ctx.log_callback is None
        ctx.secret_value = b"not the mock's secret"  # a failing transaction
        with pytest.raises(CMPError):
            ctx.exec_ir()
        assert not seen  # our callable is no longer called
        capfd.readouterr()
        push_error(b"printed-by-openssl")
        ctx.print_errors()  # OpenSSL prints the queue itself (to stderr)
        assert lib.ERR_peek_error() == 0
    ctypes.CDLL(None).fflush(None)
    out, err = capfd.readouterr()
    assert "printed-by-openssl" in out + err
    assert not seen


def test_log_verbosity_filters_callback(key):
    seen = []
    mock = MockCA(allow_key_reuse=True)  # one key, enrolled twice
    with enrolling(mock, key) as ctx:
        ctx.log_callback = lambda *args: seen.append(args)
        ctx.exec_ir()
        assert any(a[4] == "sending IR" for a in seen)  # control: INFO arrives by default
        seen.clear()
        ctx.reinit()
        ctx.log_verbosity = LogLevel.ERR
        ctx.exec_ir()
        assert all(a[3] <= LogLevel.ERR for a in seen)
        assert not any(a[4] == "sending IR" for a in seen)
        push_error(b"still-reported")
        ctx.print_errors()  # ERR lines pass the ERR filter
    assert any("still-reported" in a[4] and a[3] == LogLevel.ERR for a in seen)


def test_log_callback_exception_propagates_from_exec(key):
    mock = MockCA()
    err = Boom("from log")

    def bad(*args):
        raise err

    with enrolling(mock, key) as ctx:
        ctx.log_callback = bad
        with pytest.raises(Boom) as info:
            ctx.exec_ir()
        assert info.value is err
        assert lib.ERR_peek_error() == 0


def test_first_callback_exception_wins(key):
    """Every log line raises: the first exception is the one re-raised, later ones are
    dropped (the first is the cause, the rest are consequences)."""
    mock = MockCA()
    raised = []

    def bad(*args):
        raised.append(Boom(len(raised)))
        raise raised[-1]

    with enrolling(mock, key) as ctx:
        ctx.log_callback = bad
        with pytest.raises(Boom) as info:
            ctx.exec_ir()
    assert len(raised) > 1 and info.value is raised[0]


def test_log_callback_exception_in_print_errors_leaves_queue_empty():
    def bad(*args):
        raise Boom("from log")

    try:
        with Context() as ctx:
            ctx.log_callback = bad
            push_error(b"first")
            push_error(b"second")
            with pytest.raises(Boom):
                ctx.print_errors()
            assert lib.ERR_peek_error() == 0
    finally:
        lib.ERR_clear_error()  # keep the autouse queue check about this test's assertion


# --- transfer_callback -------------------------------------------------------------------

def test_transfer_callback_full_transaction(key):
    mock = MockCA()
    got = []

    def transfer(ctx, request):
        got.append((ctx, request, ctx.transfer_callback_arg))
        return ctx.transfer_callback_arg.process(request)

    ctx = enrolling(mock, key)
    ctx.transfer_callback = transfer
    ctx.transfer_callback_arg = mock
    assert ctx.transfer_callback is transfer and ctx.transfer_callback_arg is mock
    assert ctx.attached_server is None  # the Python transport replaced the attach
    assert lib.OSSL_CMP_CTX_get_transfer_cb_arg(ctx.ptr) != ffi.NULL
    cert = ctx.exec_ir()
    assert cert == mock.issued[-1]
    assert all(c is ctx and arg is mock for c, _, arg in got)
    requests = [r for _, r, _ in got]
    ctx.close()
    got.clear()
    gc.collect()
    # the requests are copies: valid after the transaction and the context are gone
    assert [r.body_type for r in requests] == [BodyType.IR, BodyType.CERTCONF]
    assert all(isinstance(r, Message) and r.to_der() for r in requests)
    assert requests[0].transaction_id == requests[1].transaction_id


@pytest.mark.parametrize("result", [None, 42, "IR", Certificate], ids=["None", "int", "str",
                                                                       "Certificate"])
def test_transfer_callback_wrong_return_is_type_error(key, result):
    mock = MockCA()
    if result is Certificate:
        result = mock.ca_cert
    with enrolling(mock, key) as ctx:
        ctx.transfer_callback = lambda c, request: result
        with pytest.raises(TypeError, match="transfer_callback must return a Message"):
            ctx.exec_ir()
        assert lib.ERR_peek_error() == 0
        assert not mock.issued  # nothing reached the server


@pytest.mark.parametrize("exc_type", [Boom, Halt])
def test_transfer_callback_exception_reraised_with_its_type(key, exc_type):
    mock = MockCA()
    raised = exc_type("in transfer")

    def transfer(ctx, request):
        raise raised

    with enrolling(mock, key) as ctx:
        ctx.transfer_callback = transfer
        with pytest.raises(exc_type) as info:
            ctx.exec_ir()
        assert info.value is raised
        assert lib.ERR_peek_error() == 0
        # the stored exception was consumed: the next transaction is clean
        ctx.reinit()
        ctx.transfer_callback = lambda c, r: mock.process(r)
        assert ctx.exec_ir() == mock.issued[-1]


def test_transfer_callback_replaced_between_transactions(key):
    mock = MockCA(allow_key_reuse=True)  # one key, enrolled twice
    first, second = [], []

    def cb1(ctx, request):
        first.append(request.body_type)
        return mock.process(request)

    def cb2(ctx, request):
        second.append(request.body_type)
        return mock.process(request)

    with enrolling(mock, key) as ctx:
        ctx.transfer_callback = cb1
        ctx.exec_ir()
        ctx.reinit()
        ctx.transfer_callback = cb2
        ctx.exec_ir()
    assert first == [BodyType.IR, BodyType.CERTCONF]
    assert second == [BodyType.IR, BodyType.CERTCONF]
    assert len(mock.issued) == 2


def test_transfer_callback_none_goes_back_to_http(key):
    mock = MockCA()
    called = []
    with mock.serve_http() as http:
        with http_client(mock, http.url, key) as ctx:
            ctx.transfer_callback = lambda c, r: called.append(r) or mock.process(r)
            assert lib.OSSL_CMP_CTX_get_transfer_cb_arg(ctx.ptr) != ffi.NULL
            ctx.transfer_callback = None
            assert ctx.transfer_callback is None
            assert lib.OSSL_CMP_CTX_get_transfer_cb_arg(ctx.ptr) == ffi.NULL
            assert ctx.exec_ir() == mock.issued[-1]
        assert http.requests >= 2 and not http.errors  # IR and certConf went over HTTP
    assert not called


# --- cert_conf_callback ------------------------------------------------------------------

class RecordingCA(MockCA):
    """Records the status of every certConf it receives (a StatusInfo or None)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.cert_conf_status = []

    def handle_cert_conf(self, request, cert_req_id, cert_hash, status):
        self.cert_conf_status.append(status)
        return super().handle_cert_conf(request, cert_req_id, cert_hash, status)


def test_cert_conf_callback_accepts_and_gets_its_arguments(key):
    mock = RecordingCA()
    got = []

    def conf(ctx, cert, fail_info):
        got.append((ctx, cert, fail_info))
        return 0

    ctx = enrolling(mock, key)
    # a DER round trip: the client's certificate is its own X509, not the server's object
    ctx.transfer_callback = lambda c, r: Message.from_der(mock.process(r).to_der())
    ctx.cert_conf_callback = conf
    new = ctx.exec_ir()
    (c, cert, fail_info), = got
    assert c is ctx
    assert isinstance(cert, Certificate) and type(fail_info) is FailInfo and fail_info == 0
    assert cert == new == mock.issued[-1]
    (status,) = mock.cert_conf_status
    assert status is None or status.status == PKIStatus.ACCEPTED
    issued_der = new.to_der()
    ctx.close()
    got.clear()
    del ctx, c, new
    gc.collect()
    # the certificate given to the callback holds its own reference
    assert cert.to_der() == issued_der and str(cert.subject) == "CN=callback-test"


@pytest.mark.parametrize("result, text", [
    (FailInfo.BAD_CERT_TEMPLATE, None),
    ((FailInfo.BAD_CERT_TEMPLATE, "client says no"), "client says no"),
    ((int(FailInfo.BAD_CERT_TEMPLATE), None), None),
], ids=["bits", "bits-and-text", "int-and-none"])
def test_cert_conf_callback_rejects(key, result, text):
    mock = RecordingCA()
    with enrolling(mock, key) as ctx:
        ctx.cert_conf_callback = lambda c, cert, fail_info: result
        with pytest.raises(CMPError):
            ctx.exec_ir()
    (status,) = mock.cert_conf_status
    assert isinstance(status, StatusInfo)
    assert status.status == PKIStatus.REJECTION
    assert status.fail_info & FailInfo.BAD_CERT_TEMPLATE
    if text is not None:
        assert text in status.texts


@pytest.mark.parametrize("result, exc_type", [
    ("0", TypeError), (None, TypeError), ((0, "text", 1), TypeError), ((), TypeError),
    ((0, b"bytes"), TypeError), (True, TypeError), (1.0, TypeError), (-1, ValueError),
    (1 << 27, ValueError),
], ids=["str", "None", "3-tuple", "empty-tuple", "bytes-text", "bool", "float", "negative",
        "too-big"])
def test_cert_conf_callback_wrong_return(key, result, exc_type):
    mock = RecordingCA()
    with enrolling(mock, key) as ctx:
        ctx.cert_conf_callback = lambda c, cert, fail_info: result
        with pytest.raises(exc_type, match="cert_conf_callback"):
            ctx.exec_ir()
        assert lib.ERR_peek_error() == 0
    # fail closed: the server was told the certificate is not accepted
    (status,) = mock.cert_conf_status
    assert status is not None and status.status == PKIStatus.REJECTION


@pytest.mark.parametrize("exc_type", [Boom, Halt])
def test_cert_conf_callback_exception_propagates(key, exc_type):
    mock = RecordingCA()
    raised = exc_type("in certConf")

    def conf(ctx, cert, fail_info):
        raise raised

    with enrolling(mock, key) as ctx:
        ctx.cert_conf_callback = conf
        with pytest.raises(exc_type) as info:
            ctx.exec_ir()
        assert info.value is raised
        assert lib.ERR_peek_error() == 0
    (status,) = mock.cert_conf_status
    assert status is not None and status.status == PKIStatus.REJECTION


def test_default_cert_conf_with_trusted_ca_accepts(key):
    mock = RecordingCA()
    results = []

    def conf(ctx, cert, fail_info):
        results.append(default_cert_conf(ctx, cert, fail_info))
        return results[-1]

    with enrolling(mock, key) as ctx:
        ctx.cert_conf_callback = conf
        ctx.cert_conf_callback_arg = TrustStore([mock.ca_cert])
        assert ctx.exec_ir() == mock.issued[-1]
        # the context's own certConf arg (our handle) was put back after the call
        assert lib.OSSL_CMP_CTX_get_certConf_cb_arg(ctx.ptr) == ctx._state_handle
    (result,) = results
    fail, text = result
    assert fail == 0
    (status,) = mock.cert_conf_status
    assert status is None or status.status == PKIStatus.ACCEPTED


def test_default_cert_conf_with_unrelated_ca_rejects(key):
    mock = RecordingCA()
    other_key = PrivateKey.generate("EC")
    other_ca = Certificate.create("/CN=unrelated CA", other_key, other_key, ca=True)
    results = []

    def conf(ctx, cert, fail_info):
        results.append(default_cert_conf(ctx, cert, fail_info))
        return results[-1]

    with enrolling(mock, key) as ctx:
        ctx.cert_conf_callback = conf
        ctx.cert_conf_callback_arg = TrustStore([other_ca])
        with pytest.raises(CMPError):
            ctx.exec_ir()
    (result,) = results
    fail, text = result
    assert isinstance(fail, int) and fail != 0
    (status,) = mock.cert_conf_status
    assert status.status == PKIStatus.REJECTION and status.fail_info != 0


def test_default_cert_conf_passes_on_fail_info_from_the_core(key):
    mock = MockCA()
    results = []

    def conf(ctx, cert, fail_info):
        results.append(default_cert_conf(ctx, cert, FailInfo.BAD_POP))
        return 0

    with enrolling(mock, key) as ctx:
        ctx.cert_conf_callback = conf
        ctx.cert_conf_callback_arg = TrustStore([mock.ca_cert])
        ctx.exec_ir()
    assert results[0][0] == FailInfo.BAD_POP


def _unrelated_check():
    """(context, certificate) whose default certConf check fails: the trust store holds
    another CA."""
    ca_key, other_key = PrivateKey.generate(), PrivateKey.generate()
    ca = Certificate.create("/CN=ca", ca_key, ca_key, ca=True)
    other = Certificate.create("/CN=other", other_key, other_key, ca=True)
    cert = Certificate.create("/CN=ee", PrivateKey.generate(), ca_key, issuer=ca)
    ctx = Context()
    ctx.cert_conf_callback_arg = TrustStore([other])
    return ctx, cert


def test_default_cert_conf_keeps_what_was_queued_before():
    """A rejected certificate is an answer: what the check queued goes, and only that."""
    ctx, cert = _unrelated_check()
    lib.ERR_new()
    lib.ERR_set_debug(b"t.c", 1, b"t")
    lib.ERR_set_error(lib.ERR_LIB_USER, 42, ffi.NULL)  # queued by an operation in progress
    fail, _ = default_cert_conf(ctx, cert, 0)
    assert fail != 0
    assert lib.ERR_GET_REASON(lib.ERR_get_error()) == 42 and lib.ERR_peek_error() == 0
    ctx.close()


def test_default_cert_conf_outside_a_transaction_reraises_a_log_exception_at_once():
    ctx, cert = _unrelated_check()
    ctx.log_verbosity = LogLevel.DEBUG
    raised = KeyError("log")

    def log(*args):
        raise raised

    ctx.log_callback = log
    with pytest.raises(KeyError) as info:
        default_cert_conf(ctx, cert, 0)
    assert info.value is raised and lib.ERR_peek_error() == 0
    ctx.log_callback = None
    assert ctx.status == PKIStatus.UNSPECIFIED  # nothing left over for the next call
    ctx.close()


# --- http_callback -----------------------------------------------------------------------

def test_http_callback_called_on_connect_and_disconnect(key):
    mock = MockCA()
    calls = []

    def http_cb(ctx, bio, connect, detail):
        calls.append((ctx, bio, connect, detail))
        return bio

    with mock.serve_http() as http:
        ctx = http_client(mock, http.url, key)
        ctx.http_callback = http_cb
        assert ctx.http_callback is http_cb
        assert ctx.exec_ir() == mock.issued[-1]
        ctx.close()  # a kept-alive connection may be closed only now
    assert calls and calls[0][2] is True
    assert any(connect is False for _, _, connect, _ in calls)
    connected = set()
    for c, bio, connect, detail in calls:
        assert c is ctx and isinstance(detail, int)
        assert isinstance(bio, ffi.CData) and ffi.typeof(bio) is ffi.typeof("BIO *")
        if connect:
            connected.add(int(ffi.cast("uintptr_t", bio)))
        else:  # a disconnect is for a BIO we saw connect
            assert int(ffi.cast("uintptr_t", bio)) in connected


@pytest.mark.parametrize("exc_type", [Boom, Halt])
def test_http_callback_exception_propagates(key, exc_type):
    mock = MockCA()
    raised = exc_type("in http")

    def http_cb(ctx, bio, connect, detail):
        raise raised

    with mock.serve_http() as http, http_client(mock, http.url, key) as ctx:
        ctx.http_callback = http_cb
        with pytest.raises(exc_type) as info:
            ctx.exec_ir()
        assert info.value is raised
        assert lib.ERR_peek_error() == 0
        assert not mock.issued


@pytest.mark.parametrize("result", [42, "bio", b"", ffi.NULL], ids=["int", "str", "bytes",
                                                                   "void-NULL"])
def test_http_callback_non_bio_is_type_error(key, result):
    mock = MockCA()
    with mock.serve_http() as http, http_client(mock, http.url, key) as ctx:
        ctx.http_callback = lambda c, bio, connect, detail: result if connect else bio
        with pytest.raises(TypeError, match="http_callback must return a BIO"):
            ctx.exec_ir()
        assert lib.ERR_peek_error() == 0
        assert not mock.issued


def test_http_callback_none_uses_plain_http(key):
    mock = MockCA()
    calls = []
    with mock.serve_http() as http, http_client(mock, http.url, key) as ctx:
        ctx.http_callback = lambda c, bio, connect, detail: calls.append(connect) or bio
        ctx.http_callback = None
        assert ctx.http_callback is None
        assert ctx.exec_ir() == mock.issued[-1]
    assert not calls


# --- server handler callbacks ------------------------------------------------------------

HANDLER_CASES = ["handle_cert_request", "handle_cert_conf", "handle_rr", "handle_genm",
                 "handle_poll_req"]


def failing_ca(handler, make_result):
    """A MockCA whose ``handler`` returns ``make_result()`` (which may raise)."""
    cls = type("Failing_" + handler, (MockCA,),
               {handler: lambda self, *args: make_result()})
    return cls(poll_count=1 if handler == "handle_poll_req" else 0, check_after=0)


def run_for(handler, ctx, key):
    """Drive the client transaction that reaches ``handler``; return its result."""
    if handler == "handle_genm":
        return ctx.exec_genm()
    if handler == "handle_rr":
        cert = ctx.exec_ir()  # enrol first (handle_cert_request works)
        ctx.reinit()
        ctx.old_cert = cert
        return ctx.exec_rr()
    return ctx.exec_ir()


def raiser(exc):
    def make():
        raise exc
    return make


@pytest.mark.parametrize("handler", HANDLER_CASES)
def test_handler_exception_reraised_by_attached_client(key, handler):
    raised = Boom("from " + handler)
    mock = failing_ca(handler, raiser(raised))
    with enrolling(mock, key) as ctx:
        with pytest.raises(Boom) as info:
            run_for(handler, ctx, key)
        assert info.value is raised
        assert lib.ERR_peek_error() == 0


@pytest.mark.parametrize("handler", HANDLER_CASES)
def test_handler_exception_raised_by_process(key, handler):
    raised = Boom("from " + handler)
    mock = failing_ca(handler, raiser(raised))
    from_process = []

    def transfer(ctx, request):
        try:
            return mock.process(request)
        except BaseException as exc:
            from_process.append((request.body_type, exc))
            raise

    with enrolling(mock, key) as ctx:
        ctx.transfer_callback = transfer
        with pytest.raises(Boom) as info:
            run_for(handler, ctx, key)
        assert info.value is raised
        assert lib.ERR_peek_error() == 0
    assert [exc for _, exc in from_process] == [raised]


def test_handler_exception_from_process_directly(key):
    """Server.process raises the handler's exception itself (no client in between), after
    the error response was built; the server keeps working."""
    requests = []

    class Stop(Exception):
        pass

    def capture(ctx, request):
        requests.append(request)
        raise Stop

    with Context() as ctx:
        ctx.reference_value, ctx.secret_value = b"client", b"mock-secret"
        ctx.transfer_callback = capture
        with pytest.raises(Stop):
            ctx.exec_genm()
    (genm,) = requests
    raised = Boom("direct")
    mock = failing_ca("handle_genm", raiser(raised))
    with pytest.raises(Boom) as info:
        mock.process(genm)
    assert info.value is raised
    assert lib.ERR_peek_error() == 0
    ok = MockCA()
    assert ok.process(genm).body_type == BodyType.GENP


def test_server_with_handler_callables(key):
    """Server(handle_x=callable) instead of a subclass: same propagation."""
    raised = Boom("from a plain callable")
    seen = []

    def handle_genm(request, itavs):
        seen.append([i.type for i in itavs])
        raise raised

    server = Server(handle_genm=handle_genm)
    server.ctx.reference_value = b"server"
    server.ctx.secret_value = b"shared"
    with Context() as ctx:
        ctx.reference_value, ctx.secret_value = b"client", b"shared"
        ctx.push_genm_itav(ITAV("1.2.3.4"))
        server.attach(ctx)
        with pytest.raises(Boom) as info:
            ctx.exec_genm()
        assert info.value is raised
    assert seen == [["1.2.3.4"]]


@pytest.mark.parametrize("handler", HANDLER_CASES)
def test_reject_request_is_cmp_error_not_itself(key, handler):
    mock = failing_ca(handler, raiser(RejectRequest("why-%s" % handler)))
    with enrolling(mock, key) as ctx:
        with pytest.raises(CMPError) as info:
            run_for(handler, ctx, key)
        assert lib.ERR_peek_error() == 0
    assert not isinstance(info.value, RejectRequest)
    assert info.value.server_rejected
    assert "why-%s" % handler in str(info.value)


def test_reject_request_through_process_is_an_error_response(key):
    mock = failing_ca("handle_cert_request", raiser(RejectRequest("no-thanks")))
    responses = []

    def transfer(ctx, request):
        responses.append(mock.process(request))  # does not raise
        return responses[-1]

    with enrolling(mock, key) as ctx:
        ctx.transfer_callback = transfer
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    assert [r.body_type for r in responses] == [BodyType.ERROR]
    assert info.value.server_rejected


@pytest.mark.parametrize("handler, result", [
    ("handle_cert_request", None),
    ("handle_cert_request", StatusInfo(PKIStatus.ACCEPTED)),
    ("handle_genm", "not a list"),
    ("handle_genm", None),
    ("handle_genm", [b"not an ITAV"]),
    ("handle_poll_req", [None, 0]),
    ("handle_poll_req", None),
    ("handle_cert_conf", 1),
    ("handle_cert_conf", None),
    ("handle_rr", None),
], ids=["certreq-None", "certreq-StatusInfo", "genm-str", "genm-None", "genm-list-of-bytes",
        "pollreq-list", "pollreq-None", "certconf-int", "certconf-None", "rr-None"])
def test_handler_garbage_result_is_type_error(key, handler, result):
    mock = failing_ca(handler, lambda: result)
    with enrolling(mock, key) as ctx:
        with pytest.raises(TypeError, match=handler):
            run_for(handler, ctx, key)
        assert lib.ERR_peek_error() == 0


def test_handler_poll_req_negative_check_after_is_value_error(key):
    mock = failing_ca("handle_poll_req", lambda: (None, -1))
    with enrolling(mock, key) as ctx:
        with pytest.raises(ValueError, match="check_after"):
            ctx.exec_ir()


def test_handler_inputs_kept_by_a_handler_become_copies(key):
    """Handler inputs are views of what C lends for the call; one the handler keeps is
    turned into its own copy when the call ends, so it stays valid (and independent)."""
    kept = {}
    passed = {}

    class Keeping(MockCA):
        def handle_cert_request(self, request, cert_req_id, crm, csr):
            kept["request"], kept["crm"] = request, crm
            passed["request_ptr"] = request.ptr
            assert request.body_type == BodyType.IR  # usable inside
            return super().handle_cert_request(request, cert_req_id, crm, csr)

        def handle_genm(self, request, itavs):
            kept["genm"] = request
            passed["genm_ptr"] = request.ptr
            return super().handle_genm(request, itavs)

    mock = Keeping()
    with enrolling(mock, key) as ctx:
        ctx.exec_ir()
        ctx.reinit()
        ctx.exec_genm()
    gc.collect()
    assert not any(kept[n].closed for n in ("request", "crm", "genm"))
    # a copy, not the pointer C lent (and has freed by now)
    assert kept["request"].ptr != passed["request_ptr"]
    assert kept["genm"].ptr != passed["genm_ptr"]
    assert kept["request"].body_type == BodyType.IR and kept["request"].to_der()
    assert kept["genm"].body_type == BodyType.GENM
    assert str(kept["crm"].subject) == "CN=callback-test"


def test_handler_inputs_not_kept_are_not_copied(key, monkeypatch):
    """The common case costs no copy: nothing was kept, so the views are just closed."""
    from openssl_cmp.binding import lib as real_lib

    seen = {}

    class Looking(MockCA):
        def handle_cert_request(self, request, cert_req_id, crm, csr):
            seen["request"] = weakref.ref(request)
            return super().handle_cert_request(request, cert_req_id, crm, csr)

    copies = []
    original_dup = real_lib.OSSL_CMP_MSG_dup

    class CountingLib:
        def __getattr__(self, name):
            if name == "OSSL_CMP_MSG_dup":
                return lambda p: copies.append(1) or original_dup(p)
            return getattr(real_lib, name)

    import openssl_cmp._ownership as ownership

    monkeypatch.setattr(ownership, "lib", CountingLib())
    mock = Looking()
    with enrolling(mock, key) as ctx:
        ctx.exec_ir()
    assert copies == []


# --- lifetime ----------------------------------------------------------------------------

class CallableObject:
    def __call__(self, *args):
        return 0


CALLBACK_ATTRS = ["log_callback", "transfer_callback", "cert_conf_callback", "http_callback"]


@pytest.mark.parametrize("attr", CALLBACK_ATTRS)
def test_callable_kept_alive_while_set(attr):
    with Context() as ctx:
        cb = CallableObject()
        ref = weakref.ref(cb)
        setattr(ctx, attr, cb)
        del cb
        gc.collect()
        assert ref() is not None and getattr(ctx, attr) is ref()


@pytest.mark.parametrize("attr", CALLBACK_ATTRS)
def test_callable_released_when_replaced(attr):
    with Context() as ctx:
        cb = CallableObject()
        ref = weakref.ref(cb)
        setattr(ctx, attr, cb)
        del cb
        setattr(ctx, attr, CallableObject())
        gc.collect()
        assert ref() is None
        setattr(ctx, attr, None)


@pytest.mark.parametrize("attr", CALLBACK_ATTRS)
def test_callable_released_by_close(attr):
    ctx = Context()
    cb = CallableObject()
    ref = weakref.ref(cb)
    setattr(ctx, attr, cb)
    del cb
    ctx.close()
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("attr", CALLBACK_ATTRS)
def test_idle_context_and_callable_freed_together(attr):
    ctx = Context()
    cb = CallableObject()
    setattr(ctx, attr, cb)
    refs = [weakref.ref(ctx), weakref.ref(cb), weakref.ref(ctx._boundary.state)]
    del ctx, cb
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_callable_closing_over_its_context_is_collected(key):
    """A callback that refers to its own context makes a cycle; gc breaks it."""
    mock = MockCA()

    class SelfReferencing:
        def __init__(self, ctx):
            self.ctx = ctx

        def __call__(self, c, request):
            assert c is self.ctx
            return mock.process(request)

    ctx = enrolling(mock, key)
    ctx.transfer_callback = SelfReferencing(ctx)
    ctx.exec_ir()
    refs = [weakref.ref(ctx), weakref.ref(ctx.transfer_callback)]
    del ctx
    gc.collect()
    assert [r() for r in refs] == [None, None]


def test_server_freed_after_attached_clients_closed(key):
    class Subclassed(MockCA):
        pass

    server = Subclassed()
    ref = weakref.ref(server)
    c1 = enrolling(server, key)
    c2 = server.client()
    c1.exec_ir()
    c2.exec_genm()
    del server
    gc.collect()
    assert ref() is not None  # the attached clients keep it alive
    c1.close()
    gc.collect()
    assert ref() is not None  # c2 is still attached
    c2.close()
    gc.collect()
    assert ref() is None


def test_server_freed_after_attached_client_reattached_elsewhere(key):
    first = MockCA()
    ref = weakref.ref(first)
    with first.client() as ctx:
        ctx.exec_genm()
        other = MockCA()
        other.attach(ctx)
        del first
        gc.collect()
        assert ref() is None
        assert ctx.exec_genm() is not None


# --- threads -----------------------------------------------------------------------------

def run_threads(*targets):
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads)


def test_log_callbacks_of_threads_stay_apart(key):
    """Thread A (GENM) is inside its transaction when thread B (IR) starts its own; A then
    finishes while B waits inside its transfer callback, and B finishes after A.  Each
    context's log callback gets only the lines of its own transaction."""
    mock = MockCA()
    a_inside, b_inside, a_finished = threading.Event(), threading.Event(), threading.Event()
    lines = {"a": [], "b": []}
    errors = []

    def thread_a():
        try:
            with enrolling(mock, key) as ctx:
                ctx.log_callback = lambda *args: lines["a"].append(args[4])

                def transfer(c, request):
                    if not a_inside.is_set():
                        a_inside.set()
                        assert b_inside.wait(WAIT)
                    return mock.process(request)

                ctx.transfer_callback = transfer
                ctx.exec_genm()
                assert lib.ERR_peek_error() == 0
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            a_inside.set()
            a_finished.set()

    def thread_b():
        try:
            with enrolling(mock, key) as ctx:
                ctx.log_callback = lambda *args: lines["b"].append(args[4])

                def transfer(c, request):
                    if not b_inside.is_set():
                        b_inside.set()
                        assert a_finished.wait(WAIT)
                    return mock.process(request)

                ctx.transfer_callback = transfer
                assert a_inside.wait(WAIT)
                ctx.exec_ir()
                assert lib.ERR_peek_error() == 0
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            b_inside.set()

    run_threads(thread_a, thread_b)
    assert not errors
    words = {n: {w for line in lines[n] for w in line.split()} for n in lines}
    assert "sending GENM" in lines["a"]
    assert "sending IR" in lines["b"] and "sending CERTCONF" in lines["b"]
    assert not words["a"] & {"IR", "IP", "CERTCONF", "PKICONF"}, lines["a"]
    assert not words["b"] & {"GENM", "GENP"}, lines["b"]


def test_transfer_exception_stays_in_its_thread(key):
    """Thread A's transfer callback raises while thread B is inside its transaction; B
    finishes only after A's exec_ir has raised, and sees nothing of it."""
    mock = MockCA(allow_key_reuse=True)  # one key, enrolled twice
    barrier = threading.Barrier(2, timeout=WAIT)
    a_raised = threading.Event()
    raised = Boom("thread A only")
    results = {}

    def thread_a():
        try:
            with enrolling(mock, key) as ctx:
                def transfer(c, request):
                    barrier.wait()
                    raise raised

                ctx.transfer_callback = transfer
                try:
                    ctx.exec_ir()
                except BaseException as exc:  # noqa: BLE001
                    results["a"] = exc
                results["a_queue"] = lib.ERR_peek_error()
        finally:
            a_raised.set()

    def thread_b():
        try:
            with enrolling(mock, key) as ctx:
                met = []

                def transfer(c, request):
                    if not met:
                        met.append(barrier.wait())
                        assert a_raised.wait(WAIT)
                    return mock.process(request)

                ctx.transfer_callback = transfer
                results["b"] = ctx.exec_ir()
                ctx.reinit()
                results["b2"] = ctx.exec_ir()  # nothing left over for later calls either
                results["b_queue"] = lib.ERR_peek_error()
        except BaseException as exc:  # noqa: BLE001
            results["b"] = exc

    run_threads(thread_a, thread_b)
    assert results["a"] is raised and results["a_queue"] == 0
    assert isinstance(results["b"], Certificate), results["b"]
    assert isinstance(results["b2"], Certificate) and results["b_queue"] == 0
    assert len(mock.issued) == 2


def test_handler_exception_stays_in_its_thread(key):
    """Two clients attached to one server in two threads: the exception of A's handler goes
    to A's exec_genm (the call running on A's thread), not to B, which is inside its own
    transaction at that moment."""
    a_inside, b_inside, a_raised = threading.Event(), threading.Event(), threading.Event()
    raised = Boom("handler of thread A")

    class Blocking(MockCA):
        def handle_genm(self, request, itavs):
            a_inside.set()
            assert b_inside.wait(WAIT)
            raise raised

        def handle_cert_request(self, request, cert_req_id, crm, csr):
            if not b_inside.is_set():
                b_inside.set()
                assert a_raised.wait(WAIT)
            return super().handle_cert_request(request, cert_req_id, crm, csr)

    mock = Blocking()
    results = {}

    def thread_a():
        try:
            with mock.client() as ctx:
                ctx.exec_genm()
        except BaseException as exc:  # noqa: BLE001
            results["a"] = exc
        finally:
            results["a_queue"] = lib.ERR_peek_error()
            a_inside.set()
            a_raised.set()

    def thread_b():
        try:
            assert a_inside.wait(WAIT)
            with enrolling(mock, key) as ctx:
                results["b"] = ctx.exec_ir()
        except BaseException as exc:  # noqa: BLE001
            results["b"] = exc
        finally:
            results["b_queue"] = lib.ERR_peek_error()
            b_inside.set()

    run_threads(thread_a, thread_b)
    assert results["a"] is raised and results["a_queue"] == 0
    assert isinstance(results["b"], Certificate), results["b"]
    assert results["b_queue"] == 0


def test_client_side_rejection_is_not_a_server_rejection():
    """OpenSSL reports "rejection" when our own certConf check refuses the certificate;
    CMPError tells that apart from a server that said no."""
    from openssl_cmp.testing import MockCA

    mock = MockCA()
    with mock.client(subject_name="/CN=picky", new_pkey=PrivateKey.generate()) as ctx:
        ctx.cert_conf_callback = lambda c, cert, fail: (int(FailInfo.BAD_CERT_TEMPLATE),
                                                        "not what I asked for")
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    assert info.value.rejected_by_client and not info.value.server_rejected
    rejecting = MockCA(pkistatus=PKIStatus.REJECTION)
    with rejecting.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    assert info.value.server_rejected and not info.value.rejected_by_client


# Guards against close() inside one of the context's own callbacks freeing it mid-call.
@pytest.mark.parametrize("where", ["transfer", "cert_conf"])
def test_close_from_inside_own_callback_is_refused(where):
    mock = MockCA()
    ctx = mock.client(subject_name="/CN=a", new_pkey=PrivateKey.generate())
    ctx.log_verbosity = LogLevel.EMERG
    if where == "transfer":
        def transfer(c, request):
            c.close()
        ctx.transfer_callback = transfer
    else:
        def conf(c, cert, fail_info):
            c.close()
        ctx.cert_conf_callback = conf
    with pytest.raises(RuntimeError, match="inside one of its own callbacks"):
        ctx.exec_ir()
    assert not ctx.closed
    ctx.close()


# Guards against build_cert_chain's log lines not being routed to this context's callback.
def test_build_cert_chain_logs_reach_this_context():
    ca_key = PrivateKey.generate()
    ca = Certificate.create("/CN=Chain CA", ca_key, ca_key, ca=True)
    seen = []
    ctx = Context()
    ctx.log_verbosity = LogLevel.DEBUG
    ctx.log_callback = lambda *args: seen.append(args[-1])
    ctx.cert, ctx.pkey = ca, ca_key
    ctx.build_cert_chain(TrustStore([ca]))
    assert any("chain" in line for line in seen)
    ctx.close()


# Guards against close() dropping a callback exception stored while the context is freed.
def test_close_reraises_log_callback_failure():
    ctx = Context()
    seen = []

    def failing(*args):
        seen.append(args[-1])
        raise KeyError("from log")

    ctx.log_callback = failing
    ctx._boundary.state.store(KeyError("stored during free"))  # what the trampoline does
    with pytest.raises(KeyError):
        ctx.close()
    assert ctx.closed
