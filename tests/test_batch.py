"""``openssl_cmp.enroll_many`` and ``openssl-cmp batch``: many enrollments in
one process, results in job order, one failure never stops the rest, resumable runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from openssl_cmp import CMPError, Certificate, Context, Name, PrivateKey, ReqType, enroll_many
from openssl_cmp.cli import main
from openssl_cmp.testing import MockCA


def job(mock, subject, **kw):
    return mock.client(subject_name=subject, new_pkey=PrivateKey.generate("EC"), **kw)


def test_results_in_job_order_with_failures_in_place():
    mock = MockCA()
    contexts = [job(mock, "/CN=n%d" % i) for i in range(12)]
    bad = job(mock, "/CN=bad")
    bad.secret_value = b"wrong secret"  # the MAC fails: RFC 9810 section 5.1.3.1
    jobs = contexts[:5] + [bad] + contexts[5:]
    seen = []
    lock = threading.Lock()

    def progress(index, result):
        with lock:
            seen.append(index)

    try:
        results = enroll_many(jobs, workers=4, progress=progress)
    finally:
        for ctx in jobs:
            ctx.close()
    assert sorted(seen) == list(range(13))
    assert isinstance(results[5], CMPError)
    good = [r for i, r in enumerate(results) if i != 5]
    assert [c.subject for c in good] == [Name.parse("/CN=n%d" % i) for i in range(12)]
    assert len(mock.issued) == 12


def test_request_type_pairs():
    mock = MockCA(protect_with_cert=True)  # signs its answers to signed requests
    with job(mock, "/CN=first") as ctx:
        key = PrivateKey.generate("EC")
        ctx.set_new_pkey(key)
        first = ctx.exec_ir()
    with job(mock, "/CN=cr") as cr:
        cr.cert, cr.pkey = first, key
        cr.secret_value = None
        (result,) = enroll_many([(cr, ReqType.CR)], workers=1)
    assert isinstance(result, Certificate) and result.subject == Name.parse("/CN=cr")


@pytest.mark.parametrize("jobs, workers, error", [
    (["not a context"], 1, TypeError),
    ([(None, ReqType.IR)], 1, TypeError),
    ("ir", 1, TypeError),
    ([], 0, ValueError),
    ([], True, TypeError),
])
def test_bad_arguments_before_any_call(jobs, workers, error):
    with pytest.raises(error):
        enroll_many(jobs, workers=workers)


def test_bad_request_type_and_closed_context():
    ctx = Context()
    with pytest.raises(ValueError):
        enroll_many([(ctx, 99)])
    ctx.close()
    with pytest.raises(ValueError, match="closed"):
        enroll_many([ctx])
    assert enroll_many([]) == []


def test_progress_exception_propagates():
    mock = MockCA()
    jobs = [job(mock, "/CN=p%d" % i) for i in range(3)]

    def progress(index, result):
        raise KeyError("stop")

    try:
        with pytest.raises(KeyError):
            enroll_many(jobs, workers=1, progress=progress)
    finally:
        for ctx in jobs:
            ctx.close()


# -- the command ------------------------------------------------------------------------

def test_batch_csv_resumable(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("subject,sans,name\n/CN=a,a.example,alpha\n/CN=b,,\n/CN=c,c.example,\n")
    out = tmp_path / "out"
    assert main(["batch", str(src), "--out-dir", str(out), "--workers", "3",
                 "--progress", "lines"]) == 0
    lines = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(l["subject"] for l in lines) == ["/CN=a", "/CN=b", "/CN=c"]
    assert all(l["status"] == "ok" and l["error"] is None for l in lines)
    cert = Certificate.from_file(out / "alpha.crt.pem")
    assert cert.public_key() == PrivateKey.from_file(out / "alpha.key.pem").public_key()
    assert os.stat(out / "alpha.key.pem").st_mode & 0o077 == 0
    err = capsys.readouterr().err
    assert "[3/3] ok" in err
    # a rerun with one more entry enrolls only that one
    src.write_text(src.read_text() + "/CN=d,,\n")
    assert main(["batch", str(src), "--out-dir", str(out), "--progress", "none"]) == 0
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[-1])["subject"] == "/CN=d"
    assert "3 of 4 entries already enrolled" in capsys.readouterr().err


def test_batch_jsonl_with_failure_exit_status(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"subject": "/CN=ok1", "sans": ["ok1.example"]}\n'
                   '{"subject": "/CN=bad", "newkey": "%s"}\n'
                   '{"subject": "/CN=ok2"}\n' % (tmp_path / "reused.pem"))
    key = PrivateKey.generate("EC")
    (tmp_path / "reused.pem").write_bytes(key.to_pem())
    # the same key twice: the MockCA certifies a key once, so the second entry fails
    src.write_text(src.read_text() + '{"subject": "/CN=bad2", "newkey": "%s"}\n'
                   % (tmp_path / "reused.pem"))
    rc = main(["batch", str(src), "--out-dir", str(tmp_path / "o"), "--workers", "1",
               "--progress", "none"])
    results = [json.loads(l) for l in (tmp_path / "o" / "results.jsonl").read_text()
               .splitlines()]
    by_subject = {r["subject"]: r for r in results}
    assert by_subject["/CN=ok1"]["status"] == "ok"
    assert by_subject["/CN=ok2"]["status"] == "ok"
    failed = [r for r in results if r["status"] == "error"]
    if failed:  # MockCA refuses key reuse
        assert rc == 1 and failed[0]["error"]
    else:
        assert rc == 0


def test_batch_bad_input_is_one_line(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("name\nx\n")
    assert main(["batch", str(src), "--out-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "subject" in err[0]


def test_batch_against_serve(tmp_path):
    """The command in a separate process against ``openssl-cmp serve``."""
    import re
    import queue

    server = subprocess.Popen([sys.executable, "-m", "openssl_cmp", "serve", "--seconds",
                               "60", "--srv-secret", "pass:s3", "--srv-ref", "r"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in server.stdout], daemon=True).start()
    try:
        address = None
        while address is None:
            m = re.search(r"serving CMP at (http://[\d.]+:\d+/)", lines.get(timeout=60))
            address = m and m.group(1)
        src = tmp_path / "in.csv"
        src.write_text("subject\n" + "".join("/CN=s%d\n" % i for i in range(20)))
        proc = subprocess.run([sys.executable, "-m", "openssl_cmp", "batch", str(src),
                               "--server", address, "--ref", "me", "--secret", "pass:s3",
                               "--out-dir", str(tmp_path / "o"), "--workers", "4"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert len((tmp_path / "o" / "results.jsonl").read_text().splitlines()) == 20
    finally:
        server.terminate()
        server.wait(30)
        server.stdout.close()
