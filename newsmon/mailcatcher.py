"""A small SMTP server that keeps what it receives: for tests and the demo, never for production.

Built on aiosmtpd. Messages are kept in memory (with the SMTP envelope, which is what a header
injection would change) and, when a directory is given, written there as .eml files.

    with MailCatcher() as catcher:           # 127.0.0.1, a free port
        ...send to catcher.port...
        catcher.wait_for(1)
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass(frozen=True, slots=True)
class CaughtMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    received_at: float

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def part(self, subtype: str) -> str:
        """The decoded text/plain or text/html body."""
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""


class _Handler:
    def __init__(self, store: Callable[[CaughtMail], None]):
        self._store = store

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self._store(CaughtMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content
                                                                                 or envelope.content),
                               time.time()))
        return "250 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class MailCatcher:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None, directory: Path | None = None,
                 on_message: Callable[[CaughtMail], None] | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.directory = directory
        self.on_message = on_message
        self.messages: list[CaughtMail] = []
        self._lock = threading.Condition()
        self._controller: Controller | None = None

    def _store(self, caught: CaughtMail) -> None:
        with self._lock:
            self.messages.append(caught)
            n = len(self.messages)
            self._lock.notify_all()
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / f"{int(caught.received_at * 1000)}-{n:05d}.eml").write_bytes(caught.raw)
        if self.on_message is not None:
            self.on_message(caught)

    def start(self) -> MailCatcher:
        # decode_data=False keeps the bytes exactly as sent; 8BITMIME/SMTPUTF8 are accepted
        self._controller = Controller(_Handler(self._store), hostname=self.host, port=self.port,
                                      enable_SMTPUTF8=True, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def wait_for(self, count: int, timeout: float = 30.0) -> list[CaughtMail]:
        """Wait until at least `count` messages arrived (or the timeout); return all of them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
