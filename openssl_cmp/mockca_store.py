"""Where a :class:`~openssl_cmp.testing.MockCA` keeps its records: in this process's memory
(the default), or in a database that several worker processes share.

A record store holds what a CA must know across requests: the certificates it issued
(serial number → DER, and the key identifier the key-reuse policy looks up), its
revocations (serial number → time and CRLReason), the confirmations clients sent, and the
current CRL with its number (RFC 5280 §5.2.3: one number per CRL, increasing).

* :class:`MemoryStore`: dictionaries of this process (a forked worker gets a copy).
* :class:`SQLiteStore`: one SQLite file shared by the processes that open it (WAL
  journal, ``BEGIN IMMEDIATE`` transactions); ``":memory:"`` is a database of this
  process only.
* :class:`DBAPIStore`: any DB-API 2 database, given a function that opens a connection.

Every change is one transaction, so a process that dies half-way leaves the store as it
was before the change; a revocation and the CRL re-signed for it are written together.
See docs/mockca.md, "Records shared by worker processes".
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sqlite3
import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

__all__ = ["RecordStore", "MemoryStore", "DBAPIStore", "SQLiteStore", "Revocation",
           "Decision", "CRLSigner"]

Revocation = Tuple[datetime.datetime, int]
"""When a certificate was revoked (UTC, whole seconds) and its CRLReason (RFC 5280
§5.3.1)."""

Decision = Callable[[Optional[Revocation]], Tuple[bool, Optional[Revocation]]]
"""Given a serial number's current revocation (None: not revoked), whether to change it and
to what (None: remove it, as removeFromCRL does)."""

CRLSigner = Callable[[Dict[int, Revocation], int, Optional[bytes]], bytes]
"""Signs a CRL: (all revocations, the new CRL number, the previous CRL's DER or None) →
the new CRL's DER."""

# inherited SQLite connections of a forked parent: never used nor closed in the child
# (closing one could checkpoint or unlink the parent's journal); kept referenced here
_INHERITED: list[Any] = []


def _check_limit(max_records: int | None) -> None:
    if max_records is not None and (isinstance(max_records, bool)
                                    or not isinstance(max_records, int) or max_records < 1):
        raise ValueError("max_records must be an int >= 1 or None")


class RecordStore:
    """The records of a CA (the interface :class:`~openssl_cmp.testing.MockCA` uses).

    ``max_records`` (None: all) bounds the issued certificates, the certified key
    identifiers and the confirmations, oldest forgotten first; revocations are never
    forgotten (a forgotten revocation would put a certificate back into service)."""

    max_records: int | None = None

    def add_issued(self, serial: int, der: bytes, key_id: bytes) -> None:
        """Record an issued certificate and certify its public key's identifier."""
        raise NotImplementedError

    def issued(self, serial: int) -> bytes | None:
        """The DER of the certificate issued under ``serial``, or None."""
        raise NotImplementedError

    def issued_count(self) -> int:
        """How many issued certificates the store holds."""
        raise NotImplementedError

    def add_key(self, key_id: bytes) -> None:
        """Certify a key identifier without a certificate (the CA's own key)."""
        raise NotImplementedError

    def has_key(self, key_id: bytes) -> bool:
        """Whether ``key_id`` is certified."""
        raise NotImplementedError

    def revocation(self, serial: int) -> Revocation | None:
        """The revocation of ``serial``, or None."""
        raise NotImplementedError

    def revocations(self) -> dict[int, Revocation]:
        """All revocations."""
        raise NotImplementedError

    def add_confirmation(self, transaction_id: bytes | None, cert_req_id: int) -> None:
        """Record a certConf (RFC 9483 §4.1.1)."""
        raise NotImplementedError

    def confirmations(self) -> list[tuple[bytes | None, int]]:
        """The confirmations, oldest first: (transactionID, certReqId)."""
        raise NotImplementedError

    def crl(self) -> tuple[int, bytes] | None:
        """The current CRL: (its number, its DER), or None before the first."""
        raise NotImplementedError

    def revise(self, serial: int, decide: Decision, sign: CRLSigner) -> bool:
        """Atomically: ``decide`` on ``serial``'s revocation; if it changes it, write the
        change and a new CRL signed by ``sign`` with the next number.  Returns whether
        something changed."""
        raise NotImplementedError

    def publish_crl(self, sign: CRLSigner, *, only_if_none: bool = False) -> bool:
        """Atomically sign and store a new CRL with the next number (``only_if_none``: only
        when the store has no CRL yet).  Returns whether a CRL was written."""
        raise NotImplementedError

    def claim_root(self, der: bytes) -> bool:
        """Bind the store to a CA: the first root certificate's DER is kept; False when
        the store already belongs to another root."""
        raise NotImplementedError

    def close(self) -> None:
        """Release this process's connections (the data stays)."""


class _Bounded(OrderedDict[Any, Any]):
    """An insertion-ordered map that forgets its oldest entries beyond ``limit``."""

    def __init__(self, limit: int | None) -> None:
        super().__init__()
        self.limit = limit

    def add(self, key: Any, value: Any) -> None:
        self[key] = value
        while self.limit is not None and len(self) > self.limit:
            self.popitem(last=False)


class MemoryStore(RecordStore):
    """Records in this process's memory, guarded by a lock (MockCA's default)."""

    def __init__(self, max_records: int | None = None) -> None:
        _check_limit(max_records)
        self.max_records = max_records
        self._lock = threading.Lock()
        self._issued = _Bounded(max_records)
        self._keys = _Bounded(max_records)
        self.revoked_map: dict[int, Revocation] = {}
        """The revocations themselves (``MockCA.revocations`` is this dict when the store is
        a MemoryStore: clearing it forgets them, as it always did)."""
        self._confirmations = _Bounded(max_records)
        self._confirmation_seq = 0
        self._crl: tuple[int, bytes] | None = None
        self._root: bytes | None = None

    def add_issued(self, serial: int, der: bytes, key_id: bytes) -> None:
        """Record an issued certificate and certify its public key's identifier."""
        with self._lock:
            self._issued.add(serial, der)
            self._keys.add(key_id, None)

    def issued(self, serial: int) -> bytes | None:
        """The DER of the certificate issued under ``serial``, or None."""
        with self._lock:
            der: bytes | None = self._issued.get(serial)
            return der

    def issued_count(self) -> int:
        """How many issued certificates the store holds."""
        return len(self._issued)

    def add_key(self, key_id: bytes) -> None:
        """Certify a key identifier without a certificate (the CA's own key)."""
        with self._lock:
            self._keys.add(key_id, None)

    def has_key(self, key_id: bytes) -> bool:
        """Whether ``key_id`` is certified."""
        with self._lock:
            return key_id in self._keys

    def revocation(self, serial: int) -> Revocation | None:
        """The revocation of ``serial``, or None."""
        with self._lock:
            return self.revoked_map.get(serial)

    def revocations(self) -> dict[int, Revocation]:
        """All revocations."""
        with self._lock:
            return dict(self.revoked_map)

    def add_confirmation(self, transaction_id: bytes | None, cert_req_id: int) -> None:
        """Record a certConf (RFC 9483 §4.1.1)."""
        with self._lock:
            self._confirmation_seq += 1
            self._confirmations.add(self._confirmation_seq, (transaction_id, cert_req_id))

    def confirmations(self) -> list[tuple[bytes | None, int]]:
        """The confirmations, oldest first: (transactionID, certReqId)."""
        with self._lock:
            return list(self._confirmations.values())

    def crl(self) -> tuple[int, bytes] | None:
        """The current CRL: (its number, its DER), or None before the first."""
        return self._crl

    def revise(self, serial: int, decide: Decision, sign: CRLSigner) -> bool:
        """Atomically decide, change the revocation and re-sign the CRL."""
        with self._lock:
            change, entry = decide(self.revoked_map.get(serial))
            if not change:
                return False
            revocations = dict(self.revoked_map)
            if entry is None:
                revocations.pop(serial, None)
            else:
                revocations[serial] = entry
            number = self._crl[0] + 1 if self._crl else 1
            der = sign(revocations, number, self._crl[1] if self._crl else None)
            # only now, after signing succeeded: a failure changes nothing
            if entry is None:
                self.revoked_map.pop(serial, None)
            else:
                self.revoked_map[serial] = entry
            self._crl = (number, der)
            return True

    def publish_crl(self, sign: CRLSigner, *, only_if_none: bool = False) -> bool:
        """Sign and store a new CRL with the next number."""
        with self._lock:
            if only_if_none and self._crl is not None:
                return False
            number = self._crl[0] + 1 if self._crl else 1
            self._crl = (number, sign(dict(self.revoked_map), number,
                                      self._crl[1] if self._crl else None))
            return True

    def claim_root(self, der: bytes) -> bool:
        """Bind the store to a CA's first root certificate."""
        with self._lock:
            if self._root is None:
                self._root = der
            return self._root == der


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cmp_issued (serial VARCHAR(48) PRIMARY KEY, "
    "seq INTEGER NOT NULL, der {blob} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cmp_keys (key_id VARCHAR(64) PRIMARY KEY, "
    "seq INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cmp_revocations (serial VARCHAR(48) PRIMARY KEY, "
    "revoked_at BIGINT NOT NULL, reason INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cmp_confirmations (seq INTEGER PRIMARY KEY, "
    "transaction_id VARCHAR(128), cert_req_id BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS cmp_meta (name VARCHAR(32) PRIMARY KEY, "
    "number BIGINT NOT NULL, data {blob})",
)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _hex(serial: int) -> str:
    # serial numbers reach 20 octets (RFC 5280 §4.1.2.2): wider than SQL's integers
    return "%x" % serial


class DBAPIStore(RecordStore):
    """Records in a DB-API 2 database (PEP 249) that worker processes share.

    ``connect()`` opens a new connection; each thread of each process opens its own (a
    forked process never uses its parent's).  ``paramstyle`` is the driver's: ``"qmark"``
    (sqlite3) or ``"format"``/``"pyformat"`` (``%s``: psycopg, PyMySQL); ``blob_type``
    the column type of binary data (``"BYTEA"`` for PostgreSQL).  The tables (prefix
    ``cmp_``) are created when missing.  Each change runs in one transaction, committed
    at its end and rolled back on any error; a key-reuse or serial collision between two
    writers is settled by the primary keys."""

    def __init__(self, connect: Callable[[], Any], *, paramstyle: str = "qmark",
                 blob_type: str = "BLOB", max_records: int | None = None) -> None:
        if not callable(connect):
            raise TypeError("connect must be a function returning a DB-API connection")
        if paramstyle not in ("qmark", "format", "pyformat"):
            raise ValueError("paramstyle must be 'qmark', 'format' or 'pyformat'")
        if not isinstance(blob_type, str) or not blob_type.replace(" ", "").isalnum():
            raise ValueError("blob_type must be an SQL type name")
        _check_limit(max_records)
        self.max_records = max_records
        self._connect = connect
        self._marker = "?" if paramstyle == "qmark" else "%s"
        self._blob = blob_type
        self._local = threading.local()
        self._lock = threading.Lock()  # guards _all
        self._all: list[Any] = []  # this process's connections, for close()
        self._pid = os.getpid()
        with self._transaction() as cur:
            for statement in _SCHEMA:
                cur.execute(statement.format(blob=self._blob))

    # -- connections and transactions -----------------------------------------------------
    def _open(self) -> Any:
        """A new connection (subclasses set it up)."""
        return self._connect()

    def _begin(self, cur: Any) -> None:
        """Start a transaction (DB-API connections start one implicitly)."""

    def _connection(self) -> Any:
        pid = os.getpid()
        if pid != self._pid:  # forked: the parent's connections are not ours
            with self._lock:
                if pid != self._pid:
                    _INHERITED.extend(self._all)
                    self._all = []
                    self._local = threading.local()
                    self._pid = pid
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        conn = self._connection()
        cur = conn.cursor()
        try:
            self._begin(cur)
            yield cur
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cur.close()

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self._marker)

    def _one(self, statement: str, *params: Any) -> Any:
        with self._transaction() as cur:
            cur.execute(self._sql(statement), params)
            return cur.fetchone()

    @staticmethod
    def _next_seq(cur: Any, table: str) -> int:
        cur.execute("SELECT COALESCE(MAX(seq), 0) FROM %s" % table)
        return int(cur.fetchone()[0]) + 1

    def _trim(self, cur: Any, table: str, seq: int) -> None:
        if self.max_records is not None:
            cur.execute(self._sql("DELETE FROM %s WHERE seq <= ?" % table),
                        (seq - self.max_records,))

    # -- records --------------------------------------------------------------------------
    def add_issued(self, serial: int, der: bytes, key_id: bytes) -> None:
        """Record an issued certificate and certify its public key's identifier."""
        with self._transaction() as cur:
            seq = self._next_seq(cur, "cmp_issued")
            cur.execute(self._sql("DELETE FROM cmp_issued WHERE serial = ?"),
                        (_hex(serial),))
            cur.execute(self._sql("INSERT INTO cmp_issued (serial, seq, der) "
                                  "VALUES (?, ?, ?)"), (_hex(serial), seq, bytes(der)))
            self._trim(cur, "cmp_issued", seq)
            self._add_key(cur, key_id)

    def _add_key(self, cur: Any, key_id: bytes) -> None:
        seq = self._next_seq(cur, "cmp_keys")
        cur.execute(self._sql("DELETE FROM cmp_keys WHERE key_id = ?"), (key_id.hex(),))
        cur.execute(self._sql("INSERT INTO cmp_keys (key_id, seq) VALUES (?, ?)"),
                    (key_id.hex(), seq))
        self._trim(cur, "cmp_keys", seq)

    def issued(self, serial: int) -> bytes | None:
        """The DER of the certificate issued under ``serial``, or None."""
        row = self._one("SELECT der FROM cmp_issued WHERE serial = ?", _hex(serial))
        return None if row is None else bytes(row[0])

    def issued_count(self) -> int:
        """How many issued certificates the store holds."""
        return int(self._one("SELECT COUNT(*) FROM cmp_issued")[0])

    def add_key(self, key_id: bytes) -> None:
        """Certify a key identifier without a certificate (the CA's own key)."""
        with self._transaction() as cur:
            self._add_key(cur, key_id)

    def has_key(self, key_id: bytes) -> bool:
        """Whether ``key_id`` is certified."""
        return self._one("SELECT 1 FROM cmp_keys WHERE key_id = ?", key_id.hex()) is not None

    @staticmethod
    def _revocation(row: Any) -> Revocation:
        return (_EPOCH + datetime.timedelta(seconds=int(row[0])), int(row[1]))

    def revocation(self, serial: int) -> Revocation | None:
        """The revocation of ``serial``, or None."""
        row = self._one("SELECT revoked_at, reason FROM cmp_revocations WHERE serial = ?",
                        _hex(serial))
        return None if row is None else self._revocation(row)

    def _all_revocations(self, cur: Any) -> dict[int, Revocation]:
        cur.execute("SELECT serial, revoked_at, reason FROM cmp_revocations")
        return {int(row[0], 16): self._revocation(row[1:]) for row in cur.fetchall()}

    def revocations(self) -> dict[int, Revocation]:
        """All revocations."""
        with self._transaction() as cur:
            return self._all_revocations(cur)

    def add_confirmation(self, transaction_id: bytes | None, cert_req_id: int) -> None:
        """Record a certConf (RFC 9483 §4.1.1)."""
        with self._transaction() as cur:
            seq = self._next_seq(cur, "cmp_confirmations")
            cur.execute(self._sql("INSERT INTO cmp_confirmations (seq, transaction_id, "
                                  "cert_req_id) VALUES (?, ?, ?)"),
                        (seq, None if transaction_id is None else transaction_id.hex(),
                         int(cert_req_id)))
            self._trim(cur, "cmp_confirmations", seq)

    def confirmations(self) -> list[tuple[bytes | None, int]]:
        """The confirmations, oldest first: (transactionID, certReqId)."""
        with self._transaction() as cur:
            cur.execute("SELECT transaction_id, cert_req_id FROM cmp_confirmations "
                        "ORDER BY seq")
            return [(None if t is None else bytes.fromhex(t), int(n))
                    for t, n in cur.fetchall()]

    def _crl(self, cur: Any) -> tuple[int, bytes] | None:
        cur.execute("SELECT number, data FROM cmp_meta WHERE name = 'crl'")
        row = cur.fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def crl(self) -> tuple[int, bytes] | None:
        """The current CRL: (its number, its DER), or None before the first."""
        with self._transaction() as cur:
            return self._crl(cur)

    def _store_crl(self, cur: Any, sign: CRLSigner) -> None:
        previous = self._crl(cur)
        number = previous[0] + 1 if previous else 1
        der = sign(self._all_revocations(cur), number, previous[1] if previous else None)
        cur.execute("DELETE FROM cmp_meta WHERE name = 'crl'")
        cur.execute(self._sql("INSERT INTO cmp_meta (name, number, data) "
                              "VALUES ('crl', ?, ?)"), (number, bytes(der)))

    def revise(self, serial: int, decide: Decision, sign: CRLSigner) -> bool:
        """Atomically decide, change the revocation and re-sign the CRL (one
        transaction: a failure anywhere leaves both as they were)."""
        with self._transaction() as cur:
            cur.execute(self._sql("SELECT revoked_at, reason FROM cmp_revocations "
                                  "WHERE serial = ?"), (_hex(serial),))
            row = cur.fetchone()
            change, entry = decide(None if row is None else self._revocation(row))
            if not change:
                return False
            cur.execute(self._sql("DELETE FROM cmp_revocations WHERE serial = ?"),
                        (_hex(serial),))
            if entry is not None:
                seconds = int((entry[0] - _EPOCH).total_seconds())
                cur.execute(self._sql("INSERT INTO cmp_revocations (serial, revoked_at, "
                                      "reason) VALUES (?, ?, ?)"),
                            (_hex(serial), seconds, int(entry[1])))
            self._store_crl(cur, sign)
            return True

    def publish_crl(self, sign: CRLSigner, *, only_if_none: bool = False) -> bool:
        """Sign and store a new CRL with the next number, in one transaction."""
        with self._transaction() as cur:
            if only_if_none and self._crl(cur) is not None:
                return False
            self._store_crl(cur, sign)
            return True

    def claim_root(self, der: bytes) -> bool:
        """Bind the store to a CA's first root certificate."""
        with self._transaction() as cur:
            cur.execute("SELECT data FROM cmp_meta WHERE name = 'root'")
            row = cur.fetchone()
            if row is None:
                cur.execute(self._sql("INSERT INTO cmp_meta (name, number, data) "
                                      "VALUES ('root', 0, ?)"), (bytes(der),))
                return True
            return bytes(row[0]) == bytes(der)

    def close(self) -> None:
        """Close this process's connections (the data stays)."""
        with self._lock:
            conns, self._all = self._all, []
            self._local = threading.local()
        if os.getpid() == self._pid:
            for conn in conns:
                conn.close()


class SQLiteStore(DBAPIStore):
    """Records in an SQLite file shared by every process that opens it (MockCA's
    ``store=PATH``); ``":memory:"`` keeps them in one database of this process.

    The file uses the WAL journal (readers never wait for the writer) with
    ``synchronous=NORMAL``: a crashed process never leaves a half-applied change; a power
    failure may lose the last committed changes.  Writers take the lock at the start of
    a change (``BEGIN IMMEDIATE``) and wait up to ``timeout`` seconds for it."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *,
                 max_records: int | None = None, timeout: float = 30.0) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError("path must be a str or path-like, not %s" % type(path).__name__)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError("timeout must be a number >= 0")
        self.path: str = os.fspath(path)
        self.timeout: float = float(timeout)
        self._memory: sqlite3.Connection | None = None
        if self.path == ":memory:":
            # one database per process: every thread shares one connection, serialized
            self._memory = sqlite3.connect(":memory:", isolation_level=None,
                                           check_same_thread=False)
            self._memory_lock = threading.RLock()
        super().__init__(self._open, max_records=max_records)

    def _open(self) -> Any:
        if self._memory is not None:
            return self._memory
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _begin(self, cur: Any) -> None:
        cur.execute("BEGIN IMMEDIATE")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self._memory is None:
            with super()._transaction() as cur:
                yield cur
            return
        with self._memory_lock, super()._transaction() as cur:
            yield cur

    def close(self) -> None:
        """Close this process's connections (``":memory:"``: the data is gone)."""
        if self._memory is not None:
            with self._memory_lock:
                self._memory.close()
            return
        super().close()

    def __repr__(self) -> str:
        return "<SQLiteStore %r>" % self.path
