"""build_ffi.py: the header-version probe and OPENSSL_DIR, as documented in the README."""

import importlib.util
from pathlib import Path

import pytest

from openssl_cmp import binding

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def build_ffi():
    spec = importlib.util.spec_from_file_location("build_ffi_under_test", ROOT / "build_ffi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # builds the cdef only; compiles nothing
    return module


def fake_prefix(tmp_path, major, minor, patch):
    inc = tmp_path / "include" / "openssl"
    inc.mkdir(parents=True)
    (inc / "opensslv.h").write_text(
        "#define OPENSSL_VERSION_MAJOR %d\n#define OPENSSL_VERSION_MINOR %d\n"
        "#define OPENSSL_VERSION_PATCH %d\n" % (major, minor, patch))
    (tmp_path / "lib64").mkdir()
    return tmp_path


def test_probe_matches_the_built_module(build_ffi):
    assert build_ffi.header_version([]) == binding.BUILT_WITH_VERSION_NUMBER


def test_openssl_dir_is_used(build_ffi, tmp_path, monkeypatch):
    prefix = fake_prefix(tmp_path, 3, 4, 2)
    monkeypatch.setenv("OPENSSL_DIR", str(prefix))
    include, libs = build_ffi._openssl_dirs()
    assert include == [str(prefix / "include")] and libs == [str(prefix / "lib64")]
    assert build_ffi.header_version(include) == 0x30400020


def test_gates_follow_the_header_version(build_ffi, tmp_path, monkeypatch):
    prefix = fake_prefix(tmp_path, 3, 3, 0)
    monkeypatch.setenv("OPENSSL_DIR", str(prefix))
    monkeypatch.setattr(build_ffi, "header_version", lambda dirs: 0x30300000)
    ffi = build_ffi.build()
    text = "\n".join(str(x) for x in ffi._cdefsources)
    assert "OSSL_CMP_SRV_CTX_init_trans" in text  # 3.3
    assert "OSSL_CMP_get1_crlUpdate" not in text  # 3.4
    assert "OSSL_CMP_PKISTATUS_checking_response" not in text  # 3.5.6


def test_openssl_2_is_refused(build_ffi, tmp_path):
    prefix = fake_prefix(tmp_path, 1, 1, 1)
    with pytest.raises(SystemExit, match="3.0 or later"):
        build_ffi.header_version([str(prefix / "include")])
