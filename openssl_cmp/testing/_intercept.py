"""``Intercept``: a transfer callback that passes every request and response through the
tester's functions on the way to a ``Server`` (or ``MockCA``) in-process, or to a URL.

A hook gets the message and returns what goes on: a ``Message``, raw ``bytes`` (DER, so a
tester can send what no encoder would produce), or None for "unchanged"; raising drops the
message (the exception comes out of the client's ``exec_*`` call, as any transfer
callback's does).  A request hook may also return a list of messages: each goes to the
target in turn and the client gets the last answer (a duplicated request).

The one-liners (``Intercept.drop()``, ``delay()``, ``duplicate()``, ``replay()``,
``edit()``) are hooks built for you; combine several with ``Intercept.chain``.  In CMP's
lock-step request/response exchange, "reordering" is handing over an earlier message in
place of the current one: ``replay(nth, of=k)``.
"""

from __future__ import annotations

import http.client
import ssl
import time
from typing import TYPE_CHECKING, Any, Callable, List, Union
from urllib.parse import urlsplit

from openssl_cmp.message import Message

if TYPE_CHECKING:
    from openssl_cmp.context import Context
    from openssl_cmp.server import Server

__all__ = ["Intercept", "Dropped", "Hook"]

HookResult = Union[Message, bytes, List[Message], None]
Hook = Callable[[Message], HookResult]
"""A hook: ``hook(message) -> Message | bytes | list[Message] | None`` (None: unchanged)."""

MAX_RESPONSE = 1 << 20  # bytes read from a URL at most (CMP responses are a few KiB)
CONTENT_TYPE = "application/pkixcmp"  # RFC 6712 §3.4


class Dropped(Exception):
    """A hook dropped the message: raised from the client's ``exec_*`` call."""


def _nth_matcher(nth: int | None) -> Callable[[], bool]:
    """A counter: True on the nth call (1-based), every call when ``nth`` is None."""
    if nth is not None and (isinstance(nth, bool) or not isinstance(nth, int) or nth < 1):
        raise ValueError("nth must be a positive int or None")
    count = [0]

    def match() -> bool:
        count[0] += 1
        return nth is None or count[0] == nth
    return match


def _as_message(value: Message | bytes | bytearray, what: str) -> Message:
    if isinstance(value, Message):
        return value
    try:
        return Message.from_der(value)
    except Exception as exc:  # noqa: BLE001 - reported with what it was
        raise ValueError("%s is not a CMP message the client can take: %s"
                         % (what, exc)) from None


class Intercept:
    """``ctx.transfer_callback = Intercept(target, on_request=None, on_response=None)``.

    ``target``: a ``Server`` (a ``MockCA``; anything with ``process(Message) ->
    Message``) or an ``http://``/``https://`` URL (POSTed with ``timeout`` seconds and at
    most ``MAX_RESPONSE`` bytes read; https verifies with the system trust store).
    ``requests`` and ``responses`` hold what actually went to the target and to the
    client, after the hooks."""

    def __init__(self, target: Server | str, on_request: Hook | None = None,
                 on_response: Hook | None = None, *, timeout: float = 30.0) -> None:
        if isinstance(target, str):
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("target URL must be http[s]://host[:port]/path")
        elif not callable(getattr(target, "process", None)):
            raise TypeError("target must be a Server (with process()) or a URL")
        for hook in (on_request, on_response):
            if hook is not None and not callable(hook):
                raise TypeError("hooks must be callable or None")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.target = target
        self.on_request = on_request
        self.on_response = on_response
        self.timeout = float(timeout)
        self.requests: list[Message | bytes] = []
        self.responses: list[Message] = []

    # -- the transfer callback -------------------------------------------------------------
    def __call__(self, ctx: Context, request: Message) -> Message:
        """Pass ``request`` through ``on_request``, to the target, and the answer through
        ``on_response`` back to the client."""
        outgoing: Any = request.copy()  # OpenSSL lends the request for this call only
        if self.on_request is not None:
            changed = self.on_request(outgoing)
            outgoing = outgoing if changed is None else changed
        batch = outgoing if isinstance(outgoing, list) else [outgoing]
        if not batch:
            raise ValueError("on_request returned an empty list")
        response: Any = None
        for item in batch:
            if not isinstance(item, (Message, bytes, bytearray)):
                raise TypeError("on_request must return a Message, bytes, a list of them "
                                "or None, not %s" % type(item).__name__)
            self.requests.append(item if isinstance(item, Message) else bytes(item))
            response = self._send(item)
        assert response is not None
        if self.on_response is not None:
            message = _as_message(response, "the target's answer")
            changed = self.on_response(message)
            response = message if changed is None else changed
            if isinstance(response, list):
                raise TypeError("on_response must return one message")
        answer = _as_message(response, "the response")
        self.responses.append(answer)
        return answer

    def _send(self, item: Message | bytes | bytearray) -> Message | bytes:
        target = self.target
        if isinstance(target, str):
            der = item.to_der() if isinstance(item, Message) else bytes(item)
            return self._post(target, der)
        return target.process(_as_message(item, "the request"))

    def _post(self, url: str, der: bytes) -> bytes:
        parts = urlsplit(url)
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname or "", parts.port,
                                               timeout=self.timeout,
                                               context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port,
                                              timeout=self.timeout)
        try:
            conn.request("POST", parts.path or "/", body=der,
                         headers={"Content-Type": CONTENT_TYPE})
            rsp = conn.getresponse()
            body = rsp.read(MAX_RESPONSE + 1)
        finally:
            conn.close()
        if len(body) > MAX_RESPONSE:
            raise ValueError("the server's answer exceeds %d bytes" % MAX_RESPONSE)
        if rsp.status != 200:
            raise ConnectionError("HTTP %d %s from %s" % (rsp.status, rsp.reason, url))
        return body

    def __repr__(self) -> str:
        return "Intercept(%r, requests=%d, responses=%d)" % (
            self.target, len(self.requests), len(self.responses))

    # -- one-liners ------------------------------------------------------------------------
    @staticmethod
    def drop(nth: int | None = 1) -> Hook:
        """A hook that drops the nth message it sees (1-based; None: every one):
        ``Dropped`` is raised from the client's call."""
        match = _nth_matcher(nth)

        def hook(msg: Message) -> HookResult:
            if match():
                raise Dropped("message %s dropped by Intercept.drop (%s)"
                              % ("" if nth is None else nth, msg.body_type.name))
            return None
        return hook

    @staticmethod
    def delay(seconds: float, nth: int | None = None) -> Hook:
        """A hook that holds the nth message (None: every one) for ``seconds``."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError("seconds must be a non-negative number")
        match = _nth_matcher(nth)

        def hook(msg: Message) -> HookResult:
            if match():
                time.sleep(seconds)
            return None
        return hook

    @staticmethod
    def duplicate(nth: int | None = 1) -> Hook:
        """A request hook that sends the nth request twice: the target sees it twice and
        the client gets the second answer."""
        match = _nth_matcher(nth)

        def hook(msg: Message) -> HookResult:
            return [msg, msg.copy()] if match() else None
        return hook

    @staticmethod
    def replay(nth: int = 2, of: int | None = None) -> Hook:
        """A hook that hands over, in place of the nth message, a copy of an earlier one
        (the ``of``-th; default the one just before): a replayed, stale or reordered
        message."""
        match = _nth_matcher(nth)
        if of is None:
            of = nth - 1
        if isinstance(of, bool) or not isinstance(of, int) or not 1 <= of < nth:
            raise ValueError("of must be an earlier message: 1 <= of < nth")
        seen: list[Message] = []

        def hook(msg: Message) -> HookResult:
            seen.append(msg.copy())
            return seen[of - 1].copy() if match() else None
        return hook

    @staticmethod
    def edit(nth: int | None = None, **fields: Any) -> Hook:
        """A hook that applies ``Message.edit(**fields)`` to the nth message (None: every
        one); ``protection=`` and ``reprotect=`` are passed on too."""
        match = _nth_matcher(nth)

        def hook(msg: Message) -> HookResult:
            return msg.edit(**fields) if match() else None
        return hook

    @staticmethod
    def chain(*hooks: Hook) -> Hook:
        """One hook running ``hooks`` in order, each on what the one before returned (a
        list, from ``duplicate``, ends the chain)."""
        def hook(msg: Message) -> HookResult:
            current: Any = msg
            for h in hooks:
                if isinstance(current, list):
                    break
                if isinstance(current, (bytes, bytearray)):
                    current = _as_message(bytes(current), "a hook's result")
                changed = h(current)
                current = current if changed is None else changed
            return current  # type: ignore[no-any-return]
        return hook
