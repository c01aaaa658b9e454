"""No leaks: each scenario runs N times in a fresh interpreter whose libcrypto allocator
is hooked (OPENSSL_CMP_MEMHOOK=1); the number of live blocks must not grow with N.  One
leaked object per iteration would add >= N blocks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

N = 200
SCRIPT = Path(__file__).with_name("leak_scenarios.py")


@pytest.mark.parametrize("scenario", ["sessions", "setters", "objects", "callbacks",
                                      "server", "closed", "tls", "agent"])
def test_no_leak(scenario, pki):
    env = dict(os.environ, OPENSSL_CMP_MEMHOOK="1")
    proc = subprocess.run([sys.executable, str(SCRIPT), scenario, str(pki.dir), str(N)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    name, growth = proc.stdout.split()
    assert name == scenario
    assert int(growth) < N // 4, "%s: %s live blocks more after %d runs" % (name, growth, N)


def test_leak_harness_detects_a_leak(pki):
    """The harness itself must be able to fail: leak one X509 per iteration on purpose."""
    code = (
        "import sys; sys.argv=['x','objects',%r,'50'];"
        "import leak_scenarios as s;"
        "from openssl_cmp.binding import lib;"
        "orig=s.objects;"
        "s.SCENARIOS['objects']=lambda: (orig(), lib.X509_up_ref("
        "s.Certificate.from_pem(s.CERT_PEM).ptr));"
        "s.main()" % str(pki.dir))
    env = dict(os.environ, OPENSSL_CMP_MEMHOOK="1",
               PYTHONPATH=str(SCRIPT.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[1]) >= 50
