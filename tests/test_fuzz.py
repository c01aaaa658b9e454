"""Garbage in, clear errors out: mutated DER of real CMP messages goes through the decoder,
the getters and a MockCA's ``process`` (what ``serve_http`` exposes to the network) without
crashing and without leaving errors queued.  Deterministic (fixed seeds), bounded in count."""

import random

import pytest

from openssl_cmp import (ITAV, CMPError, LogLevel, Message, OpenSSLError, PrivateKey,
                         StatusInfo, _der)
from openssl_cmp.testing import MockCA


@pytest.fixture(scope="module")
def corpus():
    """DER of every message of IR, CR, KUR, GENM, RR and a rejection."""
    mock = MockCA()
    mock.ctx.log_verbosity = LogLevel.EMERG
    seen = []
    key = PrivateKey.generate()
    ctx = mock.client(subject_name="/CN=fuzz", new_pkey=key)
    ctx.log_verbosity = LogLevel.EMERG

    def transfer(c, request):
        seen.append(request.to_der())
        response = mock.process(request)
        seen.append(response.to_der())
        return response

    ctx.transfer_callback = transfer
    cert = ctx.exec_ir()
    for step in ("cr", "kur", "genm", "rr"):
        ctx.reinit()
        if step == "kur":
            ctx.old_cert = cert
            ctx.exec_kur()
        elif step == "cr":
            ctx.exec_cr()
        elif step == "genm":
            ctx.push_genm_itav(ITAV("1.3.6.1.5.5.7.4.17"))
            ctx.exec_genm()
        else:
            ctx.old_cert = cert
            ctx.exec_rr()
    ctx.close()
    return seen


def mutations(data: bytes, rng: random.Random, count: int):
    for _ in range(count):
        b = bytearray(data)
        kind = rng.randrange(5)
        if kind == 0:  # flip bytes
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif kind == 1:  # truncate
            del b[rng.randrange(1, len(b)):]
        elif kind == 2:  # random length byte
            b[rng.randrange(len(b))] = rng.choice((0x00, 0x7F, 0x80, 0x81, 0x84, 0xFF))
        elif kind == 3:  # duplicate a slice
            i = rng.randrange(len(b))
            b[i:i] = b[i:i + rng.randint(1, 16)]
        else:  # trailing junk
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        yield bytes(b)


def exercise(message: Message):
    for getter in ("body_type", "transaction_id", "sender_nonce", "recip_nonce",
                   "sender_kid", "pvno", "sender", "recipient"):
        try:
            getattr(message, getter)
        except (ValueError, OpenSSLError):
            pass


def test_decoder_and_getters_survive_mutations(corpus):
    rng = random.Random(4210)
    decoded = 0
    for der in corpus:
        for mutated in mutations(der, rng, 400):
            try:
                message = Message.from_der(mutated)
            except (OpenSSLError, ValueError):
                continue
            decoded += 1
            exercise(message)
    assert decoded > 0  # some mutations keep the structure: the getters really ran


def test_server_answers_or_refuses_mutated_requests(corpus):
    rng = random.Random(9480)
    mock = MockCA(grant_implicit_confirm=False)
    mock.ctx.log_verbosity = LogLevel.EMERG
    requests = corpus[0::2]  # what clients sent
    answered = 0
    for der in requests:
        for mutated in mutations(der, rng, 150):
            try:
                request = Message.from_der(mutated)
            except (OpenSSLError, ValueError):
                continue
            try:
                response = mock.process(request)
            except (OpenSSLError, CMPError, ValueError):
                continue
            answered += 1
            assert response.body_type is not None
    assert answered > 0


def test_der_reader_survives_garbage():
    rng = random.Random(9483)
    for _ in range(2000):
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
        for parse in (_der.pkistatusinfo, _der.pkiheader, _der.single):
            try:
                parse(data)
            except ValueError:
                pass


def test_status_info_from_mutated_der():
    rng = random.Random(4211)
    good = _der.encode_pkistatusinfo(2, 4, ["a", "b"])
    from openssl_cmp._bio import d2i
    from openssl_cmp.binding import lib
    for mutated in mutations(good, rng, 300):
        try:
            ptr, _ = d2i(lib.d2i_OSSL_CMP_PKISI, mutated, "PKIStatusInfo")
        except OpenSSLError:
            continue
        try:
            StatusInfo._from_c(ptr)
        except ValueError:
            pass
        finally:
            lib.OSSL_CMP_PKISI_free(ptr)
