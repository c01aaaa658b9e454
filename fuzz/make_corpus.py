"""Write the seed corpus of fuzz/: real messages OpenSSL produced (ir, ip, certConf,
pkiConf, cr, cp, kur, kup, genm, genp, rr, rp, error, p10cr), certificates, a CRL and ITAVs.

    python fuzz/make_corpus.py [DIR]     (default: fuzz/corpus)

One subdirectory per target (fuzz/targets.py); files are named by content hash, so running
it again adds only what is new."""

from __future__ import annotations

import datetime
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import targets  # noqa: E402
from openssl_cmp import (CRL, ITAV, CMPError, Context, LogLevel, Message,  # noqa: E402
                         PrivateKey, itavs)
from openssl_cmp.testing import CA_CERTS_OID, Intercept, MockCA  # noqa: E402


def _write(directory: str, data: bytes) -> None:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def messages() -> list[Message]:
    """Every message of ir, cr, kur, p10cr, genm, rr and a rejected ir."""
    mock = MockCA(allow_key_reuse=True, protect_with_cert=True, grant_implicit_confirm=False)
    mock.ctx.log_verbosity = LogLevel.EMERG
    seen: list[Message] = []
    keep = seen.append
    key = PrivateKey.generate()
    ctx = mock.client(subject_name="/CN=corpus", new_pkey=key)
    ctx.log_verbosity = LogLevel.EMERG
    ctx.transfer_callback = Intercept(mock, on_request=keep, on_response=keep)
    cert = ctx.exec_ir()
    for step in ("cr", "kur", "genm", "rr"):
        ctx.reinit()
        if step == "cr":
            ctx.exec_cr()
        elif step == "kur":
            ctx.cert, ctx.pkey, ctx.old_cert = cert, key, cert
            ctx.reference_value = None
            ctx.secret_value = None
            ctx.exec_kur()
        elif step == "genm":
            ctx.push_genm_itav(ITAV(CA_CERTS_OID))
            ctx.exec_genm()
        else:
            ctx.old_cert = cert
            ctx.exec_rr()
    ctx.close()
    bad = MockCA(send_error=True)
    bad.ctx.log_verbosity = LogLevel.EMERG
    with bad.client(subject_name="/CN=corpus", new_pkey=key) as c:
        c.log_verbosity = LogLevel.EMERG
        c.transfer_callback = Intercept(bad, on_request=keep, on_response=keep)
        try:
            c.exec_ir()
        except CMPError:
            pass
    return seen


def client_responses() -> list[bytes]:
    """Responses to the ``client`` target's fixed IR (same transactionID, nonce and PBM
    secret), accepted and rejected: they pass the client's checks."""
    out = []
    for options in ({}, {"pkistatus": 2, "fail_info": 1 << 9}, {"send_error": True},
                    {"poll_count": 1, "check_after": 0}):
        mock = MockCA(secret=targets.SECRET, reference=targets.REF, **options)
        mock.ctx.log_verbosity = LogLevel.EMERG
        with targets.client_context() as ctx:
            def transfer(c: Context, request: Message, mock: MockCA = mock) -> Message:
                answer = mock.process(request)
                out.append(answer.to_der())
                return answer
            ctx.transfer_callback = transfer
            try:
                ctx.exec_ir()
            except CMPError:
                pass
    return out


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "corpus")
    msgs = messages()
    for msg in msgs:
        _write(os.path.join(root, "message"), msg.to_der())
        _write(os.path.join(root, "server"), msg.to_der())
    for der in client_responses():
        _write(os.path.join(root, "client"), der)
    mock = MockCA()
    now = datetime.datetime.now(datetime.timezone.utc)
    values = [mock.ca_cert.to_der(),
              CRL.create(mock.ca_cert, mock.ca_key, [(5, now, 1)]).to_der(),
              itavs.new_ca_certs([mock.ca_cert]).to_der(),
              itavs.new_cert_profile(["a", "b"]).to_der(),
              itavs.new_supp_lang_tags(["en"]).to_der(),
              itavs.new_sign_key_pair_types(["prime256v1", "ED25519"]).to_der(),
              itavs.new_crls([CRL.create(mock.ca_cert, mock.ca_key)]).to_der()]
    for msg in msgs:
        for itav in msg.general_info or []:
            values.append(itav.to_der())
    for der in values:
        _write(os.path.join(root, "values"), der)
    print("corpus in %s: %s" % (root, ", ".join(
        "%s %d" % (d, len(os.listdir(os.path.join(root, d)))) for d in sorted(os.listdir(root)))))


if __name__ == "__main__":
    main()
