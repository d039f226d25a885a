"""One mail transaction on an open ``smtplib.SMTP`` connection, for the notification sender.

What ``SMTP.sendmail`` does, with two differences that matter when a worker sends thousands
of short messages on one kept connection:

* The envelope addresses arrive already prepared (Django's ``prep_address``, remembered per
  address by the caller) and are written as ``<address>`` directly: ``sendmail`` runs each
  one through the email package's header parser again (``quoteaddr``), which cost more than
  the rest of the exchange. Anything but a plain ``local@domain`` goes through ``sendmail``.
* When the server offers PIPELINING (RFC 2920), MAIL, RCPT and DATA go out in one write and
  their replies are read together: two round trips per message instead of four. A server
  that does not offer it gets one command at a time, as before.

Errors are ``sendmail``'s: SMTPSenderRefused, SMTPRecipientsRefused (every recipient
refused; a 4xx or 5xx code per address), SMTPDataError, SMTPServerDisconnected; after a
refusal the transaction is reset (RSET) so the connection can carry the next message.
"""

import contextlib
import re
import smtplib

CRLF = b"\r\n"
# An addr-spec that needs no quoting: dot-atom local part, plain (ASCII, IDNA-encoded) domain.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9.-]{1,255}\Z")
_LEADING_DOT = re.compile(rb"(?m)^\.")


def _reset(smtp: smtplib.SMTP) -> None:
    # A server that hung up: the caller drops the connection on the error it is about to get.
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()


def _end(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal: a 421 means the server is closing; anything else, start over."""
    if code == 421:
        smtp.close()
    else:
        _reset(smtp)


def _end_data_begun_anyway(smtp: smtplib.SMTP, replies: list, commands: int) -> None:
    """A pipelined DATA the server answered with 354 although the transaction failed: end
    that (empty) message so the connection is back in step."""
    if len(replies) > commands and replies[-1][0] == 354:
        smtp.send(b"." + CRLF)
        smtp.getreply()


def send(smtp: smtplib.SMTP, from_addr: str, to_addrs: list[str], message: bytes) -> dict:
    """Send ``message`` (bytes with CRLF line ends) from ``from_addr`` to ``to_addrs``;
    returns the refused recipients as ``sendmail`` does (empty when all were accepted)."""
    if not all(_PLAIN_ADDRESS.match(address) for address in (from_addr, *to_addrs)):
        return smtp.sendmail(from_addr, to_addrs, message)
    smtp.ehlo_or_helo_if_needed()
    size = f" SIZE={len(message)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    commands = [f"MAIL FROM:<{from_addr}>{size}"] + [f"RCPT TO:<{a}>" for a in to_addrs]
    if smtp.does_esmtp and smtp.has_extn("pipelining"):
        smtp.send("".join(f"{command}\r\n" for command in [*commands, "DATA"]))
        replies = [smtp.getreply() for _ in range(len(commands) + 1)]
    else:
        replies = []
        for command in commands:
            smtp.send(f"{command}\r\n")
            replies.append(smtp.getreply())
            if replies[0][0] != 250:
                break

    code, text = replies[0]
    if code != 250:
        _end_data_begun_anyway(smtp, replies, len(commands))
        _end(smtp, code)
        raise smtplib.SMTPSenderRefused(code, text, from_addr)
    refused = {
        address: reply
        for address, reply in zip(to_addrs, replies[1 : len(commands)], strict=True)
        if reply[0] not in (250, 251)
    }
    if any(code == 421 for code, _ in refused.values()):
        smtp.close()
        raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(to_addrs):
        _end_data_begun_anyway(smtp, replies, len(commands))
        _reset(smtp)
        raise smtplib.SMTPRecipientsRefused(refused)
    if len(replies) == len(commands):
        smtp.send(b"DATA" + CRLF)
        replies.append(smtp.getreply())
    code, text = replies[-1]
    if code != 354:
        _end(smtp, code)
        raise smtplib.SMTPDataError(code, text)

    data = _LEADING_DOT.sub(b"..", message)
    if not data.endswith(CRLF):
        data += CRLF
    smtp.send(data + b"." + CRLF)
    code, text = smtp.getreply()
    if code != 250:
        _end(smtp, code)
        raise smtplib.SMTPDataError(code, text)
    return refused
