"""The raw layer: completeness against the man page, version gating, and two raw
enrollments (against OpenSSL's mock server over HTTP, and in-process with a Python
callback) written with nothing but ``ffi``/``lib`` calls."""

from pathlib import Path

import pytest

from openssl_cmp import binding
from openssl_cmp.binding import ffi, lib

from helpers import REF, SECRET, pbm_server_args
from rawserver import RawServer

MAN_PAGE = Path(__file__).parent / "data" / "OSSL_CMP_CTX.man.txt"


def man_page_names():
    """Every name in the NAME section of the OSSL_CMP_CTX man page."""
    text = MAN_PAGE.read_text()
    name_line = next(line for line in text.splitlines() if " - functions for managing" in line)
    names = name_line.split(" - ", 1)[0].split(",")
    return sorted({n.strip() for n in names})


MAN_NAMES = man_page_names()
RUNTIME = binding.OPENSSL_VERSION_NUMBER


def version_number(text):
    major, minor, patch = (int(x) for x in text.split("."))
    return (major << 28) | (minor << 20) | (patch << 4)


def test_man_page_parsed():
    # the NAME line lists 70 entries; a parsing slip must not shrink the check silently
    assert len(MAN_NAMES) >= 65
    assert "OSSL_CMP_CTX_new" in MAN_NAMES and "OSSL_CMP_CTX_set1_senderNonce" in MAN_NAMES


@pytest.mark.parametrize("name", MAN_NAMES)
def test_every_man_page_name_is_bound(name):
    if name.endswith("_t"):  # callback typedefs are types, not lib attributes
        assert ffi.typeof(name).kind == "function" or ffi.typeof(name).kind == "pointer"
        return
    added = binding.since(name)
    if added is None or version_number(added) <= RUNTIME:
        assert binding.has(name), name
        assert callable(getattr(lib, name))
    else:
        assert not binding.has(name)
        with pytest.raises(AttributeError):
            getattr(lib, name)


def test_gated_names_match_runtime_version():
    table = binding._SINCE
    assert table["OSSL_CMP_get1_caCerts"] == "3.2.0"
    assert table["OSSL_CMP_CTX_reset_geninfo_ITAVs"] == "3.0.8"
    assert table["OSSL_CMP_PKISTATUS_checking_response"] == "3.5.6"
    for name, added in table.items():
        expected = version_number(added) <= RUNTIME
        # functions, constants, types and extern "Python" slots alike
        assert binding.has(name) == expected, (name, added)
    assert binding.has("OSSL_CMP_CTX") and not binding.has("NO_SUCH_TYPE_OR_FUNCTION")


def test_gated_option_constants():
    assert lib.OSSL_CMP_OPT_LOG_VERBOSITY == 0 and lib.OSSL_CMP_OPT_NO_CACHE_EXTRACERTS \
        if binding.has("OSSL_CMP_OPT_NO_CACHE_EXTRACERTS") else True
    assert binding.has("OSSL_CMP_OPT_USE_TLS") == (RUNTIME >= 0x30200000)
    assert binding.has("OSSL_CMP_OPT_NO_CACHE_EXTRACERTS") == (RUNTIME >= 0x30300000)
    if binding.has("OSSL_CMP_OPT_USE_TLS"):
        assert lib.OSSL_CMP_OPT_USE_TLS == 13
    if binding.has("OSSL_CMP_OPT_NO_CACHE_EXTRACERTS"):
        assert lib.OSSL_CMP_OPT_NO_CACHE_EXTRACERTS == 37


def test_version_attributes():
    assert binding.OPENSSL_VERSION.startswith("OpenSSL 3.")
    assert binding.version_text(binding.OPENSSL_VERSION_NUMBER) in binding.OPENSSL_VERSION
    assert binding.BUILT_WITH_VERSION_NUMBER >> 4 <= binding.OPENSSL_VERSION_NUMBER >> 4
    assert binding.BUILT_WITH_VERSION_NUMBER >= 0x30000000


def test_body_type_constants_are_those_of_openssl():
    assert (lib.OCMP_PKIBODY_IR, lib.OCMP_PKIBODY_GENM, lib.OCMP_PKIBODY_POLLREP) == (0, 21, 26)
    if binding.has("OSSL_CMP_GENM"):
        assert lib.OSSL_CMP_GENM == lib.OCMP_PKIBODY_GENM
        assert lib.OSSL_CMP_ERROR == lib.OCMP_PKIBODY_ERROR


def test_extern_python_slots_declared_for_every_callback_kind():
    for kind in ("log", "transfer", "http", "certconf", "srv_cert_request", "srv_rr",
                 "srv_genm", "srv_error", "srv_certconf", "srv_pollreq"):
        assert binding.has("ocmp_%s_cb" % kind)
        assert binding.has("ocmp_user_%s_cb" % kind)


def test_macros_callable_in_api_mode():
    ctx = lib.OSSL_CMP_CTX_new(ffi.NULL, ffi.NULL)
    try:
        assert lib.OSSL_CMP_CTX_set_log_verbosity(ctx, lib.OSSL_CMP_LOG_DEBUG) == 1
        assert lib.OSSL_CMP_CTX_get_option(ctx, lib.OSSL_CMP_OPT_LOG_VERBOSITY) == 7
    finally:
        lib.OSSL_CMP_CTX_free(ctx)


def test_error_value_minus_one_needs_the_queue():
    # get_option on an unknown option returns -1 *and* leaves an error; a valid option
    # whose value is -1 leaves none.  This is why the Pythonic layer checks the queue.
    ctx = lib.OSSL_CMP_CTX_new(ffi.NULL, ffi.NULL)
    try:
        assert lib.OSSL_CMP_CTX_get_option(ctx, lib.OSSL_CMP_OPT_REVOCATION_REASON) == -1
        assert lib.ERR_peek_error() == 0
        assert lib.OSSL_CMP_CTX_get_option(ctx, 1000) == -1
        code = lib.ERR_get_error()
        assert lib.ERR_GET_LIB(code) == lib.ERR_LIB_CMP
        assert lib.ERR_GET_REASON(code) == lib.CMP_R_INVALID_OPTION
    finally:
        lib.ERR_clear_error()
        lib.OSSL_CMP_CTX_free(ctx)


# --- raw helpers (deliberately nothing from the Pythonic layer) ------------------------

def read_pem(path, reader):
    data = Path(path).read_bytes()
    bio = lib.BIO_new_mem_buf(data, len(data))
    assert bio != ffi.NULL
    try:
        obj = reader(bio, ffi.NULL, ffi.NULL, ffi.NULL)
        assert obj != ffi.NULL
        return obj
    finally:
        lib.BIO_free(bio)


def der_of_x509(x509):
    out = ffi.new("unsigned char **")
    n = lib.i2d_X509(x509, out)
    assert n > 0
    try:
        return bytes(ffi.buffer(out[0], n))
    finally:
        lib.OPENSSL_free(out[0])


def name_from_text(text):
    name = lib.X509_NAME_new()
    key, value = text.lstrip("/").split("=")
    assert lib.X509_NAME_add_entry_by_txt(name, key.encode(), lib.MBSTRING_UTF8,
                                          value.encode(), -1, -1, 0) == 1
    return name


def raw_client(pki):
    ctx = lib.OSSL_CMP_CTX_new(ffi.NULL, ffi.NULL)
    assert ctx != ffi.NULL
    assert lib.OSSL_CMP_CTX_set_log_verbosity(ctx, lib.OSSL_CMP_LOG_ERR) == 1
    assert lib.OSSL_CMP_CTX_set1_referenceValue(ctx, REF.encode(), len(REF)) == 1
    assert lib.OSSL_CMP_CTX_set1_secretValue(ctx, SECRET.encode(), len(SECRET)) == 1
    subject = name_from_text("/CN=test-client")
    assert lib.OSSL_CMP_CTX_set1_subjectName(ctx, subject) == 1
    lib.X509_NAME_free(subject)  # set1 copied it
    key = read_pem(pki.ee_key, lib.PEM_read_bio_PrivateKey)
    assert lib.OSSL_CMP_CTX_set0_newPkey(ctx, 1, key) == 1  # set0: ctx owns key now
    assert lib.OSSL_CMP_CTX_set_option(ctx, lib.OSSL_CMP_OPT_TOTAL_TIMEOUT, 30) == 1
    return ctx


def test_raw_ir_with_pbm_against_openssl_mock_server(pki, mock_server):
    server = mock_server(*pbm_server_args(pki))
    ctx = raw_client(pki)
    try:
        assert lib.OSSL_CMP_CTX_set1_server(ctx, b"127.0.0.1") == 1
        assert lib.OSSL_CMP_CTX_set_serverPort(ctx, server.port) == 1
        assert lib.OSSL_CMP_CTX_set1_serverPath(ctx, b"pkix/") == 1

        cert = lib.OSSL_CMP_exec_IR_ses(ctx)
        assert cert != ffi.NULL, lib.ERR_peek_error()
        expected = read_pem(pki.ee_crt, lib.PEM_read_bio_X509)
        assert der_of_x509(cert) == der_of_x509(expected)
        assert lib.X509_cmp(cert, lib.OSSL_CMP_CTX_get0_newCert(ctx)) == 0
        assert lib.OSSL_CMP_CTX_get_status(ctx) == lib.OSSL_CMP_PKISTATUS_accepted
        assert lib.OSSL_CMP_CTX_get_failInfoCode(ctx) == 0

        capubs = lib.OSSL_CMP_CTX_get1_caPubs(ctx)
        assert lib.sk_X509_num(capubs) == 1
        lib.sk_X509_pop_free(capubs, ffi.addressof(lib, "X509_free"))
        lib.X509_free(expected)
    finally:
        lib.OSSL_CMP_CTX_free(ctx)


# In-process: client ctx -> OSSL_CMP_CTX_server_perform -> OSSL_CMP_SRV_CTX whose
# certificate-request callback is a Python @ffi.def_extern function (tests/rawserver.py).

def test_raw_in_process_enrollment_with_python_server_callback(pki):
    server = RawServer(pki.ee_crt.read_bytes())
    ctx = raw_client(pki)
    try:
        assert lib.OSSL_CMP_CTX_set_transfer_cb(
            ctx, ffi.addressof(lib, "OSSL_CMP_CTX_server_perform")) == 1
        assert lib.OSSL_CMP_CTX_set_transfer_cb_arg(ctx, server.ptr) == 1

        cert = lib.OSSL_CMP_exec_certreq(ctx, lib.OSSL_CMP_IR, ffi.NULL)
        assert cert != ffi.NULL
        assert der_of_x509(cert) == der_of_x509(server.cert)
        assert server.calls == [("cert_request", 0, True, False), ("cert_conf", 0)]
        assert lib.OSSL_CMP_CTX_get_status(ctx) == lib.OSSL_CMP_PKISTATUS_accepted

        # a second transaction on the same context after reinit
        assert lib.OSSL_CMP_CTX_reinit(ctx) == 1
        assert lib.OSSL_CMP_CTX_get_status(ctx) == -1
        assert lib.OSSL_CMP_exec_CR_ses(ctx) != ffi.NULL
        assert len(server.calls) == 4

        # a rejection: NULL result, status rejection, the fail bit and text in the context
        assert lib.OSSL_CMP_CTX_reinit(ctx) == 1
        server.reject = True
        assert lib.OSSL_CMP_exec_IR_ses(ctx) == ffi.NULL
        assert lib.OSSL_CMP_CTX_get_status(ctx) == lib.OSSL_CMP_PKISTATUS_rejection
        assert lib.OSSL_CMP_CTX_get_failInfoCode(ctx) == lib.OSSL_CMP_CTX_FAILINFO_badRequest
        assert lib.ERR_peek_error() != 0
        lib.ERR_clear_error()
    finally:
        lib.OSSL_CMP_CTX_free(ctx)
        server.close()
