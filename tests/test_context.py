"""A port of OpenSSL's test/cmp_ctx_test.c to the Pythonic Context: defaults, every
setter/getter pair, error cases and reinit semantics."""

import gc

import pytest

from openssl_cmp import (CSR, ITAV, Certificate, Context, Extensions, FailInfo, GeneralName,
                         LogLevel, Name, OpenSSLError, Option, PKIStatus, PolicyInfo,
                         PrivateKey, PublicKey, TrustStore, UnsupportedError, binding)
from openssl_cmp.binding import ffi, lib

HAS_32 = binding.has("OSSL_CMP_CTX_get0_validatedSrvCert")
HAS_33 = binding.has("OSSL_CMP_CTX_get0_geninfo_ITAVs")
CA_CERTS = "1.3.6.1.5.5.7.4.17"  # id-it-caCerts


@pytest.fixture
def ctx():
    with Context() as c:
        yield c


@pytest.fixture(scope="module")
def certs(pki):
    return {name: Certificate.from_file(getattr(pki, name + "_crt"))
            for name in ("ca", "ee", "srv")}


# --- defaults -------------------------------------------------------------------------

OPTION_DEFAULTS = {
    Option.LOG_VERBOSITY: 6, Option.KEEP_ALIVE: 1, Option.MSG_TIMEOUT: -1,
    Option.TOTAL_TIMEOUT: 0, Option.VALIDITY_DAYS: 0, Option.SUBJECTALTNAME_NODEFAULT: 0,
    Option.SUBJECTALTNAME_CRITICAL: 0, Option.POLICIES_CRITICAL: 0, Option.POPO_METHOD: 1,
    Option.IMPLICIT_CONFIRM: 0, Option.DISABLE_CONFIRM: 0, Option.REVOCATION_REASON: -1,
    Option.UNPROTECTED_SEND: 0, Option.UNPROTECTED_ERRORS: 0, Option.OWF_ALGNID: 672,
    Option.MAC_ALGNID: 781, Option.DIGEST_ALGNID: 672, Option.IGNORE_KEYUSAGE: 0,
    Option.PERMIT_TA_IN_EXTRACERTS_FOR_IR: 0, Option.USE_TLS: -1,
    Option.NO_CACHE_EXTRACERTS: 0,
}


@pytest.mark.parametrize("option", list(Option))
def test_option_defaults(ctx, option):
    if not binding.has(option.c_name):
        with pytest.raises(UnsupportedError, match=binding.since(option.c_name)):
            ctx.get_option(option)
        with pytest.raises(UnsupportedError):
            ctx.set_option(option, 1)
        return
    assert ctx.get_option(option) == OPTION_DEFAULTS[option]


def test_result_defaults(ctx):
    assert ctx.status == PKIStatus.UNSPECIFIED
    assert ctx.fail_info is None
    assert ctx.status_strings == []
    assert ctx.new_cert is None
    assert ctx.new_chain == [] and ctx.ca_pubs == [] and ctx.extra_certs_in == []
    assert ctx.untrusted == []
    assert ctx.trusted is None  # OpenSSL returns NULL when unset (3.0 and 3.5)
    assert ctx.log_verbosity == LogLevel.INFO
    assert ctx.geninfo_itavs == []
    assert ctx.get_new_pkey() is None and ctx.get_new_pkey(private=True) is None
    for attr in ("server", "server_path", "server_port", "proxy", "no_proxy", "server_cert",
                 "expected_sender", "cert", "pkey", "reference_value", "recipient",
                 "issuer", "subject_name", "req_extensions", "old_cert", "p10_csr",
                 "transaction_id", "sender_nonce", "transfer_callback", "cert_conf_callback",
                 "http_callback", "transfer_callback_arg", "http_callback_arg"):
        assert getattr(ctx, attr) is None, attr
    assert ctx.extra_certs_out == []
    assert ctx.req_extensions_have_san() is False
    assert ctx.status_text() is None


# --- options ----------------------------------------------------------------------------

@pytest.mark.parametrize("option,value", [
    (Option.LOG_VERBOSITY, 8), (Option.KEEP_ALIVE, 2), (Option.MSG_TIMEOUT, 0),
    (Option.TOTAL_TIMEOUT, 30), (Option.VALIDITY_DAYS, 365), (Option.POPO_METHOD, 0),
    (Option.IMPLICIT_CONFIRM, 1), (Option.REVOCATION_REASON, 10), (Option.IGNORE_KEYUSAGE, 1),
    (Option.OWF_ALGNID, 673), (Option.DIGEST_ALGNID, 674), (Option.UNPROTECTED_SEND, 1),
])
def test_set_get_option(ctx, option, value):
    ctx.set_option(option, value)
    assert ctx.get_option(option) == value


def test_option_bool_and_enum(ctx):
    ctx.set_option(Option.IMPLICIT_CONFIRM, True)
    assert ctx.get_option(Option.IMPLICIT_CONFIRM) == 1
    ctx.log_verbosity = LogLevel.DEBUG
    assert ctx.log_verbosity is LogLevel.DEBUG


@pytest.mark.parametrize("option,value", [
    (Option.LOG_VERBOSITY, 9), (Option.LOG_VERBOSITY, -1), (Option.MSG_TIMEOUT, -1),
    (Option.POPO_METHOD, 4), (Option.POPO_METHOD, -2), (Option.REVOCATION_REASON, 11),
    (Option.KEEP_ALIVE, 3), (Option.TOTAL_TIMEOUT, -5),
])
def test_option_out_of_range_is_value_error_and_unchanged(ctx, option, value):
    before = ctx.get_option(option)
    with pytest.raises(ValueError):
        ctx.set_option(option, value)
    assert ctx.get_option(option) == before


def test_option_type_errors(ctx):
    with pytest.raises(TypeError):
        ctx.set_option("LOG_VERBOSITY", 1)
    with pytest.raises(TypeError):
        ctx.set_option(Option.LOG_VERBOSITY, "7")
    with pytest.raises(ValueError, match="unknown CMP option"):
        ctx.get_option(1000)
    with pytest.raises(TypeError):
        ctx.get_option(None)


@pytest.mark.skipif(not binding.has("OSSL_CMP_OPT_USE_TLS"), reason="OpenSSL < 3.2")
def test_use_tls_cannot_go_back_to_default(ctx):
    ctx.set_option(Option.USE_TLS, 1)
    assert ctx.get_option(Option.USE_TLS) == 1
    with pytest.raises(ValueError):
        ctx.set_option(Option.USE_TLS, -1)


# --- transfer settings ----------------------------------------------------------------

def test_server_settings(ctx):
    ctx.server = "127.0.0.1"
    ctx.server_path = "pkix/"
    ctx.server_port = 8080
    ctx.proxy = "http://proxy.invalid:3128"
    ctx.no_proxy = "localhost,127.0.0.1"
    assert (ctx.server, ctx.server_path, ctx.server_port, ctx.proxy, ctx.no_proxy) == (
        "127.0.0.1", "pkix/", 8080, "http://proxy.invalid:3128", "localhost,127.0.0.1")
    ctx.server = None
    assert ctx.server is None
    with pytest.raises(ValueError):
        ctx.server_port = 70000
    with pytest.raises(TypeError):
        ctx.server_port = "80"
    with pytest.raises(ValueError, match="NUL"):
        ctx.server = "a\0b"
    with pytest.raises(TypeError):
        ctx.server = b"host"
    assert ctx.server is None


def test_set_url(ctx):
    ctx.set_url("http://127.0.0.1:8080/pkix/")
    assert (ctx.server, ctx.server_port, ctx.server_path) == ("127.0.0.1", 8080, "pkix/")
    ctx.set_url("example.org")
    assert (ctx.server, ctx.server_port, ctx.server_path) == ("example.org", 0, "/")
    with pytest.raises(ValueError):
        ctx.set_url("ftp://x/")


# --- credentials ------------------------------------------------------------------------

def test_server_cert_up_ref_and_clear(ctx, certs):
    ctx.server_cert = certs["srv"]
    got = ctx.server_cert
    assert got == certs["srv"] and got is not certs["srv"]
    ctx.server_cert = certs["ca"]  # a second set replaces the first
    assert ctx.server_cert == certs["ca"]
    ctx.server_cert = None
    assert ctx.server_cert is None
    with pytest.raises(TypeError):
        ctx.server_cert = certs["srv"].to_pem()


@pytest.mark.parametrize("attr", ["expected_sender", "recipient", "issuer", "subject_name"])
def test_name_setters_copy(ctx, attr):
    name = Name.parse("/CN=x/O=y")
    setattr(ctx, attr, name)
    got = getattr(ctx, attr)
    assert got == name and got.ptr != name.ptr
    name.close()  # the caller's object may go; the context's copy stays
    assert str(getattr(ctx, attr)) == "O=y,CN=x"
    setattr(ctx, attr, "CN=z")  # RFC 4514 text
    assert getattr(ctx, attr) == Name.parse("/CN=z")
    setattr(ctx, attr, None)
    assert getattr(ctx, attr) is None
    with pytest.raises(TypeError):
        setattr(ctx, attr, 42)
    with pytest.raises(ValueError):
        setattr(ctx, attr, "/CN")


def test_trusted_is_set0_shared_store(ctx, certs):
    store = TrustStore([certs["ca"]])
    ctx.trusted = store
    got = ctx.trusted
    assert got.ptr == store.ptr  # set0/get0: the same X509_STORE
    store.add(certs["srv"])  # shared, not copied
    assert len(ctx.trusted.certs) == 2
    ctx.trusted = store  # the same object twice: no double free
    ctx.trusted = [certs["ca"]]  # a list builds a new store
    assert ctx.trusted.ptr != store.ptr and ctx.trusted.certs == [certs["ca"]]
    ctx.trusted = None
    assert ctx.trusted is None
    assert len(store.certs) == 2  # the caller's store survived all that
    with pytest.raises(TypeError):
        ctx.trusted = "ca.pem"


def test_untrusted_set1_copies_stack(ctx, certs):
    ctx.untrusted = [certs["ca"], certs["srv"]]
    assert ctx.untrusted == [certs["ca"], certs["srv"]]
    ctx.untrusted = [certs["ca"], certs["ca"]]  # de-duplicated by OpenSSL
    assert ctx.untrusted == [certs["ca"]]
    ctx.untrusted = []
    assert ctx.untrusted == []
    # set1_untrusted(empty) would leave a NULL stack on 3.0: the context must stay usable
    assert lib.OSSL_CMP_CTX_get0_untrusted(ctx.ptr) != ffi.NULL
    with pytest.raises(TypeError):
        ctx.untrusted = [certs["ca"], "x"]
    assert ctx.untrusted == []


def test_cert_and_pkey(ctx, certs, pki):
    key = PrivateKey.from_file(pki.ee_key)
    ctx.cert = certs["ee"]
    ctx.pkey = key
    assert ctx.cert == certs["ee"] and ctx.pkey.public_key() == key.public_key()
    with pytest.raises(TypeError):
        ctx.pkey = key.public_key()
    ctx.cert = None
    ctx.pkey = None
    assert ctx.cert is None and ctx.pkey is None


def test_build_cert_chain_once(ctx, certs, pki):
    ctx.cert = certs["ee"]
    ctx.build_cert_chain(TrustStore([certs["ca"]]), [certs["ca"]])
    with pytest.raises(RuntimeError, match="once"):
        ctx.build_cert_chain(TrustStore([certs["ca"]]))


def test_reference_and_secret(ctx):
    ctx.reference_value = b"ref"
    assert ctx.reference_value == b"ref"
    ctx.reference_value = "text-ref"
    assert ctx.reference_value == b"text-ref"
    ctx.reference_value = None
    assert ctx.reference_value is None
    ctx.secret_value = b"s3cret"
    ctx.secret_value = "text secret"
    ctx.secret_value = None
    with pytest.raises(AttributeError, match="write-only"):
        ctx.secret_value
    with pytest.raises(ValueError, match="empty"):
        ctx.secret_value = b""
    with pytest.raises(TypeError):
        ctx.secret_value = 1234


# --- header and body contents -----------------------------------------------------------

def test_geninfo_itavs_push_get_reset_and_reinit(ctx):
    itav = ITAV(CA_CERTS)
    ctx.push_geninfo_itav(itav)
    ctx.push_geninfo_itav(ITAV("1.2.3.4", b"\x05\x00"))
    assert [i.type for i in ctx.geninfo_itavs] == [CA_CERTS, "1.2.3.4"]
    itav.close()  # push0 got its own copy
    ctx.reinit()
    assert len(ctx.geninfo_itavs) == 2  # reinit keeps geninfo ITAVs (openssl#19216)
    ctx.reset_geninfo_itavs()
    assert ctx.geninfo_itavs == []
    with pytest.raises(TypeError):
        ctx.push_geninfo_itav(CA_CERTS)


def test_extra_certs_out(ctx, certs):
    ctx.extra_certs_out = [certs["ca"]]
    assert ctx.extra_certs_out == [certs["ca"]]
    ctx.extra_certs_out = ()
    assert ctx.extra_certs_out == []


def test_new_pkey_private_and_public(ctx, pki):
    key = PrivateKey.from_file(pki.ee_key)
    ctx.set_new_pkey(key)
    assert ctx.get_new_pkey(private=True).public_key() == key.public_key()
    assert ctx.get_new_pkey() == key.public_key()
    pub_only = PrivateKey.generate().public_key()
    ctx.set_new_pkey(pub_only)
    assert ctx.get_new_pkey() == pub_only
    assert ctx.get_new_pkey(private=True) is None  # only a public key is there
    with pytest.raises(TypeError):
        ctx.set_new_pkey(b"key")
    del key
    gc.collect()
    assert isinstance(ctx.get_new_pkey(), PublicKey)


def test_new_pkey_falls_back_to_p10csr_then_client_key(ctx, pki):
    csr = CSR.from_file(pki.ee_csr)
    ctx.p10_csr = csr
    assert ctx.get_new_pkey() == csr.public_key()
    assert ctx.p10_csr == csr and ctx.p10_csr.ptr != csr.ptr


@pytest.mark.skipif(not HAS_32, reason="OpenSSL < 3.2")
def test_serial_number(ctx):
    ctx.serial_number = 0x1234567890ABCDEF1234
    assert ctx.serial_number == 0x1234567890ABCDEF1234
    ctx.serial_number = None
    assert ctx.serial_number is None
    with pytest.raises(TypeError):
        ctx.serial_number = "12"


@pytest.mark.skipif(HAS_32, reason="OpenSSL >= 3.2")
def test_serial_number_unsupported(ctx):
    with pytest.raises(UnsupportedError, match="3.2.0"):
        ctx.serial_number = 5
    with pytest.raises(UnsupportedError, match="3.2.0"):
        ctx.serial_number


def test_subject_alt_names_and_req_extensions_conflict(ctx):
    ctx.push_subject_alt_name("DNS:a.example")
    ctx.push_subject_alt_name(GeneralName.ip("192.0.2.1"))
    with pytest.raises(OpenSSLError) as info:  # MULTIPLE_SAN_SOURCES
        ctx.req_extensions = Extensions({"subjectAltName": "DNS:b.example"})
    assert info.value.has(lib.ERR_LIB_CMP, lib.CMP_R_MULTIPLE_SAN_SOURCES)
    assert ctx.req_extensions is None  # nothing half-applied
    assert ctx.req_extensions_have_san() is False


def test_req_extensions_set0_copy(ctx):
    exts = Extensions({"subjectAltName": "DNS:b.example", "keyUsage": "digitalSignature"})
    ctx.req_extensions = exts
    assert ctx.req_extensions_have_san() is True
    assert ctx.req_extensions == exts
    exts.close()
    gc.collect()
    assert ctx.req_extensions.names() == ["subjectAltName", "keyUsage"]
    with pytest.raises(OpenSSLError):  # SAN now in the extensions: pushing another fails
        ctx.push_subject_alt_name("DNS:c.example")
    ctx.req_extensions = {"basicConstraints": "CA:FALSE"}
    assert ctx.req_extensions_have_san() is False
    ctx.req_extensions = None
    assert ctx.req_extensions is None


def test_push_policy(ctx):
    # push0_policy returns the stack size (2 here), not 1: treating that as a failure
    # and freeing the policy would be a double free at context free.
    ctx.set_new_pkey(PrivateKey.generate())
    ctx.push_policy("1.2.3.4")
    policy = PolicyInfo("1.2.3.5")
    ctx.push_policy(policy)
    policy.close()
    crm = ctx.setup_crm()  # the policies end up in the template's extensions
    assert crm.extensions().names() == ["certificatePolicies"]
    text = crm.extensions().text(0)
    assert "1.2.3.4" in text and "1.2.3.5" in text
    with pytest.raises(TypeError):
        ctx.push_policy(1234)


def test_old_cert_and_p10(ctx, certs):
    ctx.old_cert = certs["ee"]
    assert ctx.old_cert == certs["ee"]
    ctx.old_cert = None
    assert ctx.old_cert is None
    with pytest.raises(TypeError):
        ctx.p10_csr = certs["ee"]


def test_genm_itavs_cleared_by_reinit(ctx):
    ctx.push_genm_itav(ITAV(CA_CERTS))
    with pytest.raises(TypeError):
        ctx.push_genm_itav(None)
    ctx.reinit()  # nothing observable but must not fail or leak (see test_leaks)


def test_transaction_id_and_sender_nonce_cleared_by_reinit(ctx):
    ctx.transaction_id = b"\x01" * 16
    ctx.sender_nonce = b"\x02" * 16
    assert ctx.transaction_id == b"\x01" * 16 and ctx.sender_nonce == b"\x02" * 16
    ctx.reinit()
    assert ctx.transaction_id is None and ctx.sender_nonce is None
    with pytest.raises(TypeError):
        ctx.transaction_id = "abc"


def test_cert_conf_callback_set_and_clear(ctx):
    def cb(c, cert, fail_info):
        return 0

    ctx.cert_conf_callback = cb
    ctx.cert_conf_callback_arg = {"anything": 1}
    assert ctx.cert_conf_callback is cb and ctx.cert_conf_callback_arg == {"anything": 1}
    assert lib.OSSL_CMP_CTX_get_certConf_cb_arg(ctx.ptr) != ffi.NULL
    ctx.cert_conf_callback = None
    assert lib.OSSL_CMP_CTX_get_certConf_cb_arg(ctx.ptr) == ffi.NULL
    with pytest.raises(TypeError):
        ctx.cert_conf_callback = 5


def test_validated_server_cert_gated(ctx):
    if HAS_32:
        assert ctx.validated_server_cert is None
    else:
        with pytest.raises(UnsupportedError, match="3.2.0"):
            ctx.validated_server_cert


def test_libctx_propq():
    with Context(propq="provider=default") as c:
        assert c.propq == "provider=default"
        assert c.libctx is None
    with pytest.raises(TypeError):
        Context(libctx="default")


# --- errors, logging, lifetime of the context itself ---------------------------------

def test_print_errors_goes_through_log_callback(ctx):
    seen = []
    ctx.log_callback = lambda *args: seen.append(args)
    lib.ERR_new()
    lib.ERR_set_debug(b"x.c", 7, b"fn")
    lib.ERR_set_error(lib.ERR_LIB_CMP, lib.CMP_R_WRONG_PBM_VALUE, ffi.NULL)
    ctx.print_errors()
    assert lib.ERR_peek_error() == 0
    assert seen and seen[0][3] == LogLevel.ERR and "wrong pbm value" in seen[0][4]


def test_log_callback_exception_propagates(ctx):
    class Boom(Exception):
        pass

    def bad(*args):
        raise Boom("from log")

    ctx.log_callback = bad
    lib.ERR_new()
    lib.ERR_set_debug(b"x.c", 7, b"fn")
    lib.ERR_set_error(lib.ERR_LIB_CMP, lib.CMP_R_WRONG_PBM_VALUE, ffi.NULL)
    with pytest.raises(Boom):
        ctx.print_errors()
    lib.ERR_clear_error()
    with pytest.raises(TypeError):
        ctx.log_callback = "not callable"


def test_closed_context_raises_value_error():
    c = Context()
    c.close()
    c.close()  # idempotent
    assert c.closed
    for action in (lambda: c.status, lambda: c.reinit(), lambda: c.get_option(Option.LOG_VERBOSITY),
                   lambda: setattr(c, "server", "x"), lambda: c.exec_ir(), lambda: c.new_cert):
        with pytest.raises(ValueError, match="closed"):
            action()


def test_context_manager_closes():
    with Context() as c:
        assert not c.closed
    assert c.closed


def test_reinit_clears_results_after_a_transaction(pki):
    from rawserver import RawServer

    server = RawServer(pki.ee_crt.read_bytes())
    with Context() as c:
        c.log_verbosity = LogLevel.ERR
        c.reference_value, c.secret_value = b"ref", b"test-secret"
        c.subject_name = "/CN=test-client"
        c.set_new_pkey(PrivateKey.from_file(pki.ee_key))
        c.attach_srv_ctx(server.ptr, owner=server)
        cert = c.exec_ir()
        assert c.status == PKIStatus.ACCEPTED and c.fail_info == FailInfo(0)
        assert c.status_text() == "PKIStatus: accepted"
        assert c.new_cert == cert
        c.reinit()
        assert c.status == PKIStatus.UNSPECIFIED and c.fail_info is None
        assert c.new_cert is None and c.status_strings == [] and c.ca_pubs == []
        assert cert.subject == Name.parse("/CN=test-client")  # ours survived reinit
        assert c.exec_cr() == cert  # and the context is usable again
    server.close()
