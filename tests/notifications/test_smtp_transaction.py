"""The sender's mail transaction (notifications.smtp_transaction) against a real SMTP server, with
and without PIPELINING: what arrives, what a refusal raises, and that a kept connection
carries the next message after a refusal."""

import smtplib

import pytest

from notifications import smtp_transaction
from tests.notifications.harness import SmtpReceiver


def _message(message_id: str, body: str = "Hello Robin,\r\nsee you on Monday.\r\n") -> bytes:
    return (
        f"From: clinic@example.org\r\nTo: robin@example.org\r\nMessage-ID: {message_id}\r\n"
        f"Subject: Reminder\r\n\r\n{body}"
    ).encode()


@pytest.fixture(params=[True, False], ids=["pipelining", "one-command-at-a-time"])
def receiver(request):
    receiver = SmtpReceiver(
        pipelining=request.param,
        refuse={
            "nobody@example.org": "550 5.1.1 No such user",
            "later@example.org": "451 4.3.0 Try again later",
            "blocked@example.org": "553 5.7.1 Sender not allowed",
        },
    ).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp(receiver):
    client = smtplib.SMTP("127.0.0.1", receiver.port, timeout=10)
    yield client
    client.close()


def test_it_offers_pipelining_only_where_the_server_does(receiver, smtp):
    smtp.ehlo()
    assert smtp.has_extn("pipelining") == receiver.pipelining


def test_it_delivers_messages_one_after_another_on_one_connection(receiver, smtp):
    for n in range(3):
        refused = smtp_transaction.send(
            smtp, "clinic@example.org", ["robin@example.org"], _message(f"<m{n}@example.org>")
        )
        assert refused == {}
    assert dict(receiver.accepted) == {f"<m{n}@example.org>": 1 for n in range(3)}
    message = receiver.messages[0]
    assert message["Subject"] == "Reminder"
    assert message.get_payload() == "Hello Robin,\r\nsee you on Monday.\r\n"


def test_lines_starting_with_a_dot_arrive_unchanged(receiver, smtp):
    body = ".\r\n..two dots\r\n.one dot\r\nlast line without an end"
    smtp_transaction.send(
        smtp, "clinic@example.org", ["robin@example.org"], _message("<d@x>", body)
    )
    payload = receiver.messages[0].get_payload()
    assert payload == ".\r\n..two dots\r\n.one dot\r\nlast line without an end\r\n"


def test_a_refused_address_raises_with_its_code_and_the_connection_carries_on(receiver, smtp):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp_transaction.send(
            smtp, "clinic@example.org", ["nobody@example.org"], _message("<r1@x>")
        )
    assert refused.value.recipients == {"nobody@example.org": (550, b"5.1.1 No such user")}
    smtp_transaction.send(smtp, "clinic@example.org", ["robin@example.org"], _message("<r2@x>"))
    assert dict(receiver.accepted) == {"<r2@x>": 1}


def test_a_deferred_address_raises_with_its_4xx_code(receiver, smtp):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp_transaction.send(smtp, "clinic@example.org", ["later@example.org"], _message("<l@x>"))
    assert refused.value.recipients["later@example.org"][0] == 451
    assert receiver.total == 0


def test_one_refused_recipient_of_two_is_reported_and_the_other_gets_it(receiver, smtp):
    refused = smtp_transaction.send(
        smtp,
        "clinic@example.org",
        ["nobody@example.org", "robin@example.org"],
        _message("<two@x>"),
    )
    assert refused == {"nobody@example.org": (550, b"5.1.1 No such user")}
    assert dict(receiver.accepted) == {"<two@x>": 1}


def test_a_refused_sender_raises_and_the_connection_carries_on(receiver, smtp):
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        smtp_transaction.send(smtp, "blocked@example.org", ["robin@example.org"], _message("<s@x>"))
    assert refused.value.smtp_code == 553
    smtp_transaction.send(smtp, "clinic@example.org", ["robin@example.org"], _message("<s2@x>"))
    assert dict(receiver.accepted) == {"<s2@x>": 1}


def test_an_address_that_needs_quoting_goes_through_smtplib(receiver, smtp):
    smtp_transaction.send(
        smtp, '"front desk"@example.org', ["robin@example.org"], _message("<q@x>")
    )
    assert dict(receiver.accepted) == {"<q@x>": 1}


def test_a_server_that_hung_up_raises_disconnected(receiver, smtp):
    smtp.ehlo()
    smtp.quit()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtp_transaction.send(smtp, "clinic@example.org", ["robin@example.org"], _message("<h@x>"))
