"""openssl_cmp.testing.strategies, and the recipe "for any such request, OpenSSL's server
answers X" (docs/testing.md)."""

import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from openssl_cmp import (ITAV, BodyType, FailInfo, GeneralName, LogLevel, Message,  # noqa: E402
                         Name, PrivateKey)
from openssl_cmp.testing import MockCA, strategies  # noqa: E402

SLOW = settings(max_examples=15, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(name=strategies.names(), key=strategies.keys(), san=strategies.general_names(),
       itav=strategies.itavs())
def test_value_strategies(name, key, san, itav):
    assert isinstance(name, Name) and Name.from_der(name.to_der()) == name
    assert isinstance(key, PrivateKey)
    assert isinstance(san, GeneralName) and str(san)
    assert isinstance(itav, ITAV) and ITAV.from_der(itav.to_der()) == itav


@SLOW
@given(request=strategies.requests())
def test_recipe_any_request_is_certified_as_asked(request):
    """RFC 4210 §5.3.4 / RFC 9483 §4.1.1: for any template OpenSSL's client sends, the
    server (OpenSSL's server core under MockCA) issues a certificate for that subject and
    key."""
    mock = MockCA()
    mock.ctx.log_verbosity = LogLevel.EMERG
    answer = mock.process(request.message)
    assert answer.body_type == BodyType.IP
    [cert] = answer.certificates
    assert cert.subject == request.template.subject
    assert cert.public_key() == request.template.key.public_key()


@SLOW
@given(request=strategies.requests())
def test_recipe_any_broken_protection_is_bad_message_check(request):
    """RFC 9483 §3.5: whatever the request, a broken protection is answered with an error
    message carrying badMessageCheck."""
    mock = MockCA()
    mock.ctx.log_verbosity = LogLevel.EMERG
    answer = mock.process(request.message.edit(protection="break"))
    assert answer.body_type == BodyType.ERROR
    assert answer.status_infos[0].fail_info & FailInfo.BAD_MESSAGE_CHECK


@SLOW
@given(msg=strategies.messages())
def test_messages_decode_and_are_answered_or_refused(msg):
    """Any message of the strategy (edited or not) is a decodable PKIMessage, and
    OpenSSL's server answers every one (an error when it is no valid request)."""
    assert Message.from_der(msg.to_der()) == msg
    mock = MockCA()
    mock.ctx.log_verbosity = LogLevel.EMERG
    assert isinstance(mock.process(msg).body_type, BodyType)


@SLOW
@given(msg=strategies.messages(body_types=(BodyType.CERTCONF,), edit=False))
def test_messages_restricted_by_body_type(msg):
    assert msg.body_type == BodyType.CERTCONF
