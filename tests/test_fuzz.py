"""Garbage in, clear errors out: mutated DER of real CMP messages goes through the decoder,
the getters and a MockCA's ``process`` (what ``serve_http`` exposes to the network) without
crashing and without leaving errors queued.  Deterministic (fixed seeds), bounded in count."""

import random

import pytest

from openssl_cmp import (ITAV, CMPError, LogLevel, Message, OpenSSLError, PrivateKey,
                         StatusInfo, _der)
from openssl_cmp.testing import MockCA

from helpers import sign_with


@pytest.fixture(scope="module")
def corpus():
    """DER of every message of IR, CR, KUR, GENM, RR and a rejection."""
    # one key for IR, CR and KUR; KUR and RR signed by the certificate (RFC 9483 §4.1.3, §4.2)
    mock = MockCA(allow_key_reuse=True, protect_with_cert=True)
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
            sign_with(ctx, cert, key)
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


# -- the fuzz/ harness's targets, bounded (the CI run of the seeded fallback mutator) ----

import os  # noqa: E402
import sys  # noqa: E402

FUZZ = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz")


@pytest.fixture(scope="module")
def fuzz_harness():
    sys.path.insert(0, FUZZ)
    try:
        import mutate
        import run
        import targets
        yield targets, mutate, run
    finally:
        sys.path.remove(FUZZ)


@pytest.mark.parametrize("target", ["message", "server", "values", "client"])
def test_fuzz_target_bounded(fuzz_harness, target):
    """Each fuzz target (fuzz/targets.py) over its seed corpus and 300 seeded mutations:
    only the documented exceptions, no crash, nothing left on the error queue."""
    targets, mutate, run = fuzz_harness
    func = targets.TARGETS[target]
    corpus = run.corpus_of(target)
    assert corpus, "fuzz/corpus/%s is empty: run python fuzz/make_corpus.py" % target
    for data in mutate.inputs(corpus, 300, seed=6712):
        func(data)
    targets.reset()


def test_client_seed_responses_reach_the_end(fuzz_harness):
    """The client target's seeds are real answers to its fixed request: at least one is
    accepted, so mutations start from inside OpenSSL's response handling."""
    targets, _, run = fuzz_harness
    issued = 0
    for data in run.corpus_of("client"):
        response = Message.from_der(data)
        sent = []

        def transfer(c, request, response=response):
            sent.append(request)
            if len(sent) > 3:  # a "waiting" seed keeps the client polling
                raise RuntimeError("enough")
            return targets._answer(response, request)

        with targets.client_context() as ctx:
            ctx.transfer_callback = transfer
            try:
                ctx.exec_ir()
                issued += 1
            except (CMPError, RuntimeError):
                pass
    assert issued >= 1


def test_regression_huge_received_status_str():
    """Found by fuzz/run.py message (fuzz/crashes/message-status-overflow).  RFC 4210
    §5.2.3: PKIStatus is an INTEGER; a peer may send any value.  Reading it works; printing
    it says what it is (it used to raise OverflowError from OSSL_CMP_STATUSINFO_new); handing
    it to OpenSSL is a ValueError."""
    der = _der.sequence(_der.encode_integer(1 << 70))
    status = StatusInfo._from_der(der)
    assert status.status == 1 << 70
    assert str(status) == "PKIStatus: %d (not a PKIStatus)" % (1 << 70)
    with pytest.raises(ValueError, match="beyond what OpenSSL can hold"):
        status._to_c()
