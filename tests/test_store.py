"""MockCA's record stores (openssl_cmp.mockca_store): the in-memory default, SQLite shared
by processes, any DB-API 2 connection; concurrent writers in several processes, a crash
in the middle of a change, bounded growth, and two MockCAs sharing one store as two
worker processes do."""

import datetime
import multiprocessing
import os
import sqlite3

import pytest

from openssl_cmp import CMPError, FailInfo, PrivateKey
from openssl_cmp.mockca_store import DBAPIStore, MemoryStore, RecordStore, SQLiteStore
from openssl_cmp.testing import MockCA

WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
BIG = (1 << 159) + 12345  # serial numbers reach 20 octets (RFC 5280 §4.1.2.2)


def sign(revocations, number, previous):
    """A stand-in CRL signer: the DER is a readable record of what was signed."""
    return repr((number, sorted(revocations))).encode()


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-memory", "dbapi"])
def store(request, tmp_path):
    path = str(tmp_path / "records.db")
    made = {"memory": lambda: MemoryStore(),
            "sqlite-file": lambda: SQLiteStore(path),
            "sqlite-memory": lambda: SQLiteStore(":memory:"),
            "dbapi": lambda: DBAPIStore(lambda: sqlite3.connect(path))}[request.param]()
    yield made
    made.close()


def test_records_round_trip(store):
    assert isinstance(store, RecordStore)
    assert store.issued(BIG) is None and not store.has_key(b"k1")
    store.add_issued(BIG, b"der-1", b"k1")
    store.add_key(b"ca")
    assert store.issued(BIG) == b"der-1" and store.issued_count() == 1
    assert store.has_key(b"k1") and store.has_key(b"ca") and not store.has_key(b"k2")
    store.add_confirmation(b"\x01\x02", 0)
    store.add_confirmation(None, 7)
    assert store.confirmations() == [(b"\x01\x02", 0), (None, 7)]


def test_revise_changes_the_revocation_and_the_crl_together(store):
    """RFC 5280 §5.2.3: every CRL gets the next number."""
    assert store.crl() is None
    assert store.publish_crl(sign) and store.crl() == (1, b"(1, [])")
    assert not store.publish_crl(sign, only_if_none=True)
    assert store.revise(BIG, lambda held: (True, (WHEN, 6)), sign)
    assert store.revocation(BIG) == (WHEN, 6) and store.revocations() == {BIG: (WHEN, 6)}
    assert store.crl() == (2, repr((2, [BIG])).encode())
    assert not store.revise(BIG, lambda held: (False, held), sign)  # a refusal: no change
    assert store.crl()[0] == 2
    assert store.revise(BIG, lambda held: (True, None), sign)  # removeFromCRL
    assert store.revocation(BIG) is None and store.crl() == (3, b"(3, [])")


def test_a_failing_change_changes_nothing(store):
    store.publish_crl(sign)

    def broken(revocations, number, previous):
        raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        store.revise(5, lambda held: (True, (WHEN, 1)), broken)
    assert store.revocation(5) is None and store.crl() == (1, b"(1, [])")


def test_bounded_growth(tmp_path):
    for store in (MemoryStore(max_records=3), SQLiteStore(tmp_path / "b.db", max_records=3)):
        for serial in range(10):
            store.add_issued(serial, b"der", b"key%d" % serial)
            store.add_confirmation(None, serial)
            store.revise(serial, lambda held: (True, (WHEN, 0)), sign)
        assert store.issued_count() == 3
        assert [store.issued(s) is not None for s in (6, 7, 8, 9)] == [False, True, True, True]
        assert not store.has_key(b"key6") and store.has_key(b"key9")
        assert [n for _, n in store.confirmations()] == [7, 8, 9]
        assert len(store.revocations()) == 10  # a revocation is never forgotten
        store.close()


def test_argument_checks(tmp_path):
    with pytest.raises(ValueError):
        MemoryStore(max_records=0)
    with pytest.raises(TypeError):
        SQLiteStore(42)
    with pytest.raises(ValueError):
        SQLiteStore(tmp_path / "x.db", timeout=-1)
    with pytest.raises(TypeError):
        DBAPIStore("not callable")
    with pytest.raises(ValueError):
        DBAPIStore(sqlite3.connect, paramstyle="numeric")
    with pytest.raises(ValueError):
        DBAPIStore(sqlite3.connect, blob_type="BLOB; DROP TABLE x")


def test_format_paramstyle_is_translated(tmp_path):
    """Drivers with %s parameters (psycopg, PyMySQL) get %s markers."""
    path = str(tmp_path / "f.db")
    seen = []

    class Cursor:
        def __init__(self, cur):
            self.cur = cur

        def execute(self, sql, params=()):
            seen.append(sql)
            return self.cur.execute(sql.replace("%s", "?"), params)

        def __getattr__(self, name):
            return getattr(self.cur, name)

    class Connection:
        def __init__(self):
            self.conn = sqlite3.connect(path)

        def cursor(self):
            return Cursor(self.conn.cursor())

        def __getattr__(self, name):
            return getattr(self.conn, name)

    store = DBAPIStore(Connection, paramstyle="format")
    store.add_issued(3, b"d", b"k")
    assert store.issued(3) == b"d"
    assert any("%s" in sql for sql in seen) and not any("?" in sql for sql in seen)
    store.close()


def _writer(path, worker, count):
    store = SQLiteStore(path)
    for i in range(count):
        serial = worker * 1000 + i
        store.add_issued(serial, b"der%d" % serial, b"key%d" % serial)
        store.revise(serial, lambda held: (held is None, (WHEN, 1)), sign)
    store.close()


def test_concurrent_writers_in_several_processes(tmp_path):
    """Four processes write at once: nothing is lost and every CRL number is used once."""
    path = str(tmp_path / "shared.db")
    store = SQLiteStore(path)
    store.publish_crl(sign)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(path, w, 25)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    assert store.issued_count() == 100 and len(store.revocations()) == 100
    number, der = store.crl()
    assert number == 101  # 1 + one per revocation: no two writers took the same number
    assert der == repr((101, sorted(store.revocations()))).encode()
    store.close()


def _die_mid_change(path):
    store = SQLiteStore(path)
    store.add_issued(1, b"der", b"key")  # committed

    def die(held):
        os._exit(3)  # a crash inside the transaction: nothing of it is committed

    store.revise(1, die, sign)


def test_a_crash_mid_change_leaves_the_store_as_it_was(tmp_path):
    path = str(tmp_path / "crash.db")
    store = SQLiteStore(path, timeout=5)
    store.publish_crl(sign)
    process = multiprocessing.get_context("fork").Process(target=_die_mid_change,
                                                          args=(path,))
    process.start()
    process.join(60)
    assert process.exitcode == 3
    assert store.issued(1) == b"der" and store.revocation(1) is None
    assert store.crl() == (1, b"(1, [])")
    assert store.revise(1, lambda held: (True, (WHEN, 0)), sign)  # the lock was released
    store.close()


def test_a_forked_process_opens_its_own_connection(tmp_path):
    store = SQLiteStore(tmp_path / "fork.db")
    store.add_issued(1, b"parent", b"k")
    process = multiprocessing.get_context("fork").Process(target=_writer,
                                                          args=(str(tmp_path / "fork.db"),
                                                                5, 1))
    process.start()
    process.join(60)
    assert process.exitcode == 0
    assert store.issued(5000) == b"der5000" and store.issued(1) == b"parent"
    store.close()


# -- MockCA on a store ---------------------------------------------------------------------

def _two_workers(path):
    """Two MockCAs of one CA on one store: what two worker processes are."""
    first = MockCA(protect_with_cert=True, store=path)
    second = MockCA(first.ca_key, first.ca_cert, protect_with_cert=True, store=path)
    return first, second


def _signed(ctx, cert, key):
    ctx.reinit()
    ctx.cert, ctx.pkey, ctx.old_cert = cert, key, cert
    ctx.secret_value = None
    ctx.reference_value = None


def test_mockcas_sharing_a_store_share_records(tmp_path):
    """RFC 9483 §4.1.3 (KUR of a certificate another worker issued), §4.2 (its
    revocation), §4.3.4 (the CRL every worker serves)."""
    first, second = _two_workers(tmp_path / "ca.db")
    key = PrivateKey.generate()
    with first.client(subject_name="/CN=shared", new_pkey=key) as ctx:
        cert = ctx.exec_ir()
    with second.client(subject_name="/CN=again", new_pkey=key) as ctx:
        with pytest.raises(CMPError) as info:  # the key is certified (by the other worker)
            ctx.exec_ir()
        assert info.value.fail_info == FailInfo.BAD_CERT_TEMPLATE
    new_key = PrivateKey.generate()
    with second.client(new_pkey=new_key) as ctx:
        _signed(ctx, cert, key)
        renewed = ctx.exec_kur()
    assert renewed.subject == cert.subject and second.issued == [renewed]
    with first.client() as ctx:
        _signed(ctx, renewed, new_key)
        ctx.exec_rr()
    assert second.is_revoked(renewed) and not second.is_revoked(cert)
    assert [entry[0] for entry in second.crl.revoked()] == [renewed.serial_number]
    assert second.crl.number == first.crl.number == 2 and second.crl == first.crl
    with second.client() as ctx:
        _signed(ctx, renewed, new_key)
        with pytest.raises(CMPError) as info:  # revoked: refused by the other worker too
            ctx.exec_rr()
        assert info.value.fail_info == FailInfo.SIGNER_NOT_TRUSTED
    assert first.store.issued_count() == 2


def test_a_store_belongs_to_one_ca(tmp_path):
    path = tmp_path / "ca.db"
    first = MockCA(store=path)
    with pytest.raises(ValueError, match="another CA"):
        MockCA(store=path)
    again = MockCA(first.ca_key, first.ca_cert, store=str(path))  # a restart
    assert again.crl == first.crl


def test_mockca_store_arguments(tmp_path):
    assert isinstance(MockCA().store, MemoryStore)
    assert isinstance(MockCA(store=":memory:").store, SQLiteStore)
    mine = MemoryStore()
    assert MockCA(store=mine).store is mine
    assert isinstance(MockCA(store=lambda: sqlite3.connect(str(tmp_path / "c.db"))).store,
                      DBAPIStore)
    with pytest.raises(TypeError):
        MockCA(store=42)


def test_mockca_max_records_bounds_the_shared_store(tmp_path):
    mock = MockCA(store=tmp_path / "m.db", max_records=2)
    for i in range(4):
        with mock.client(subject_name="/CN=n%d" % i, new_pkey=PrivateKey.generate()) as ctx:
            ctx.exec_ir()
    assert len(mock.issued) == 2 and mock.store.issued_count() == 2
    assert len(mock.confirmed) == 2 and len(mock.store.confirmations()) == 2
