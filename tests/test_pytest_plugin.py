"""The pytest plugin (entry point pytest11): per-test MockCA options (marker and factory),
the intercept fixture, and the CMP transcript in the report of a failed test."""

import pytest

from openssl_cmp import BodyType, CMPError, PKIStatus

pytest_plugins = ["pytester"]


@pytest.mark.cmp_mock_ca(poll_count=2, check_after=0)
def test_marker_configures_the_mock(cmp_mock_ca, intercept, cmp_client):
    assert cmp_mock_ca.poll_count == 2
    cmp_client.exec_ir()
    # RFC 4210 §5.3.22: two pollReq/pollRep rounds before the certificate
    assert [m.body_type for m in intercept.requests].count(BodyType.POLLREQ) >= 2


def test_factory(cmp_mock_ca_factory):
    mock = cmp_mock_ca_factory(pkistatus=PKIStatus.REJECTION)
    with mock.client(subject_name="/CN=f") as ctx:
        from openssl_cmp import PrivateKey

        ctx.set_new_pkey(PrivateKey.generate())
        with pytest.raises(CMPError):
            ctx.exec_ir()


def test_intercept_fixture(intercept, cmp_client):
    cmp_client.exec_ir()
    assert [e.request.body_type for e in cmp_client.transcript][0] == BodyType.IR
    assert intercept.responses[0].body_type == BodyType.IP


def test_marker_rejects_positional(pytester):
    pytester.makepyfile("""
        import pytest
        @pytest.mark.cmp_mock_ca(1)
        def test_x(cmp_mock_ca):
            pass
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)


def test_failed_test_report_has_the_transcript(pytester):
    pytester.makepyfile("""
        import pytest
        @pytest.mark.cmp_mock_ca(pkistatus=2, fail_info=1 << 9)
        def test_rejected(intercept, cmp_client):
            cmp_client.exec_ir()
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CMP transcript*", "-> IR*tid=*",
                                 "<- IP*status=rejection failInfo=badPOP*"])


def test_passing_test_has_no_transcript_section(pytester):
    pytester.makepyfile("""
        def test_ok(intercept, cmp_client):
            cmp_client.exec_ir()
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1)
    assert "CMP transcript" not in result.stdout.str()
