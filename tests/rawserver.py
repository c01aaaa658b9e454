"""A minimal in-process CMP server written against the raw binding only: an
``OSSL_CMP_SRV_CTX`` whose callbacks are the ``ocmp_user_*`` extern "Python" slots.

Each server finds its Python state through ``OSSL_CMP_SRV_CTX_get0_custom_ctx`` (a handle),
so many RawServers can coexist.  It returns a fixed certificate for every request; tests
use it before (and independently of) the Pythonic ``Server``.
"""

from __future__ import annotations

from openssl_cmp.binding import ffi, lib


@ffi.def_extern(name="ocmp_user_srv_cert_request_cb")
def _cert_request(srv_ctx, req, cert_req_id, crm, p10cr, cert_out, chain_out, ca_pubs):
    server = ffi.from_handle(lib.OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx))
    server.calls.append(("cert_request", cert_req_id, crm != ffi.NULL, p10cr != ffi.NULL))
    if server.reject:
        return lib.OSSL_CMP_STATUSINFO_new(lib.OSSL_CMP_PKISTATUS_rejection,
                                           lib.OSSL_CMP_CTX_FAILINFO_badRequest,
                                           b"rejected by RawServer")
    if lib.X509_up_ref(server.cert) != 1:  # the server core frees what we output
        return ffi.NULL
    cert_out[0] = server.cert
    return lib.OSSL_CMP_STATUSINFO_new(lib.OSSL_CMP_PKISTATUS_accepted, 0, ffi.NULL)


@ffi.def_extern(name="ocmp_user_srv_certconf_cb")
def _cert_conf(srv_ctx, req, cert_req_id, cert_hash, si):
    server = ffi.from_handle(lib.OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx))
    server.calls.append(("cert_conf", cert_req_id))
    return 1


@ffi.def_extern(name="ocmp_user_srv_rr_cb")
def _rr(srv_ctx, req, issuer, serial):
    server = ffi.from_handle(lib.OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx))
    server.calls.append(("rr",))
    return lib.OSSL_CMP_STATUSINFO_new(lib.OSSL_CMP_PKISTATUS_accepted, 0, ffi.NULL)


@ffi.def_extern(name="ocmp_user_srv_genm_cb")
def _genm(srv_ctx, req, in_itavs, out):
    server = ffi.from_handle(lib.OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx))
    server.calls.append(("genm", lib.sk_OSSL_CMP_ITAV_num(in_itavs)))
    copy = lib.sk_OSSL_CMP_ITAV_new_null()
    for i in range(lib.sk_OSSL_CMP_ITAV_num(in_itavs)):  # echo what was asked
        lib.sk_OSSL_CMP_ITAV_push(copy, lib.OSSL_CMP_ITAV_dup(
            lib.sk_OSSL_CMP_ITAV_value(in_itavs, i)))
    out[0] = copy
    return 1


class RawServer:
    """``RawServer(cert_pem_bytes)``; ``.ptr`` is the ``OSSL_CMP_SRV_CTX *``."""

    def __init__(self, cert_pem: bytes, ref=b"server", secret=b"test-secret"):
        bio = lib.BIO_new_mem_buf(cert_pem, len(cert_pem))
        self.cert = lib.PEM_read_bio_X509(bio, ffi.NULL, ffi.NULL, ffi.NULL)
        lib.BIO_free(bio)
        assert self.cert != ffi.NULL
        self.calls = []
        self.reject = False
        self._handle = ffi.new_handle(self)
        self.ptr = lib.OSSL_CMP_SRV_CTX_new(ffi.NULL, ffi.NULL)
        assert self.ptr != ffi.NULL
        assert lib.OSSL_CMP_SRV_CTX_init(
            self.ptr, self._handle, lib.ocmp_user_srv_cert_request_cb, lib.ocmp_user_srv_rr_cb,
            lib.ocmp_user_srv_genm_cb, ffi.NULL, lib.ocmp_user_srv_certconf_cb, ffi.NULL) == 1
        inner = lib.OSSL_CMP_SRV_CTX_get0_cmp_ctx(self.ptr)
        assert lib.OSSL_CMP_CTX_set1_referenceValue(inner, ref, len(ref)) == 1
        assert lib.OSSL_CMP_CTX_set1_secretValue(inner, secret, len(secret)) == 1
        assert lib.OSSL_CMP_CTX_set_log_verbosity(inner, lib.OSSL_CMP_LOG_ERR) == 1

    def close(self):
        if self.ptr is not None:
            lib.OSSL_CMP_SRV_CTX_free(self.ptr)
            lib.X509_free(self.cert)
            self.ptr = None

    def __del__(self):
        self.close()
