import pytest

from openssl_cmp.binding import ffi, lib

from helpers import MockServer, make_pki


def _drain():
    errors = []
    while True:
        code = lib.ERR_get_error()
        if code == 0:
            return errors
        buf = ffi.new("char[]", 256)
        lib.ERR_error_string_n(code, buf, 256)
        errors.append(ffi.string(buf).decode())


@pytest.fixture(autouse=True)
def empty_error_queue():
    """Every test starts and ends with OpenSSL's (thread-local) error queue empty."""
    left_before = _drain()
    assert not left_before, "error queue not empty before the test: %s" % left_before
    yield
    left_after = _drain()
    assert not left_after, "test left errors on the OpenSSL error queue: %s" % left_after


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def mock_server(pki):
    """Factory: ``mock_server(*args)`` starts ``openssl cmp -port 0 *args``; stopped after."""
    servers = []

    def start(*args):
        server = MockServer(args, cwd=pki.dir)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
