"""Read customer email from a Maildir or an mbox file into cases."""

from __future__ import annotations

import logging
import mailbox

from django.core.management.base import BaseCommand, CommandError

from cases.mail.inbound import MessageTooLarge, inbound_email_receive
from cases.mail.models import InboundEmail
from cases.mail.parsing import MalformedEmail

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Store the messages of a Maildir or an mbox file in their cases. A message "
        "already stored (same Message-ID) is skipped, so running again is safe. "
        "In a Maildir, handled messages are marked seen (S) and rejected ones "
        "flagged (F), and neither is read again; an mbox is read whole each time "
        "unless --delete removes what was handled."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--maildir", help="Path of the Maildir to read.")
        source.add_argument("--mbox", help="Path of the mbox file to read.")
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Remove each message from the mailbox once it is handled.",
        )

    def handle(self, *args, **options):
        if options["maildir"]:
            counts = self._read_maildir(options["maildir"], options["delete"])
        else:
            counts = self._read_mbox(options["mbox"], options["delete"])
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"Read {sum(counts.values())} messages: {summary}.")
        if counts["rejected"]:
            raise CommandError(
                f"{counts['rejected']} messages were rejected as malformed or too "
                "large; see the log for their mailbox keys."
            )

    def _receive(self, raw: bytes, source: str, key: str, counts: dict) -> bool:
        """Store one message; return False when it was rejected."""
        try:
            result = inbound_email_receive(raw=raw, source=source)
        except (MalformedEmail, MessageTooLarge) as exc:
            counts["rejected"] += 1
            logger.warning(
                "Rejected mailbox message %s: %s", key, exc, extra={"key": key}
            )
            return False
        if result.duplicate:
            counts["already stored"] += 1
        elif result.dropped:
            counts["own messages dropped"] += 1
        else:
            counts["stored"] += 1
        return True

    def _new_counts(self) -> dict:
        return {
            "stored": 0,
            "already stored": 0,
            "own messages dropped": 0,
            "rejected": 0,
        }

    def _read_maildir(self, path: str, delete: bool) -> dict:
        try:
            box = mailbox.Maildir(path, factory=None, create=False)
            keys = list(box.iterkeys())
        except (FileNotFoundError, mailbox.NoSuchMailboxError) as exc:
            raise CommandError(f"No Maildir at {path}: {exc}") from exc
        counts = self._new_counts()
        for key in keys:
            message = box.get_message(key)
            if message.get_subdir() == "cur" and set("SF") & set(message.get_flags()):
                continue
            accepted = self._receive(
                box.get_bytes(key), InboundEmail.Source.MAILDIR, key, counts
            )
            if delete and accepted:
                box.remove(key)
                continue
            message.set_subdir("cur")
            message.add_flag("S" if accepted else "F")
            box[key] = message
        return counts

    def _read_mbox(self, path: str, delete: bool) -> dict:
        try:
            box = mailbox.mbox(path, factory=None, create=False)
        except (FileNotFoundError, mailbox.NoSuchMailboxError) as exc:
            raise CommandError(f"No mbox file at {path}: {exc}") from exc
        counts = self._new_counts()
        box.lock()
        try:
            for key in list(box.iterkeys()):
                accepted = self._receive(
                    box.get_bytes(key), InboundEmail.Source.MBOX, str(key), counts
                )
                if delete and accepted:
                    box.remove(key)
            box.flush()
        finally:
            box.unlock()
            box.close()
        return counts
