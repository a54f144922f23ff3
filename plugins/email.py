"""E-mail over SMTP: ``HUIKUAN_SMTP_URL`` (``smtp://host:port``, ``smtps://…``, with
``user:password@`` if the server needs it).

    [email]
    from_address = "收款部 <ar@example.com>"

The message id goes out as the ``Message-ID`` header, so a message sent twice after a
crash is recognisable as one.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from huikuan.core.plugin import DeliveryError, DeliveryReceipt, OutgoingMessage, Settings, hookimpl


@hookimpl
def huikuan_send_message(message: OutgoingMessage, settings: Settings) -> DeliveryReceipt | None:
    if message.channel != "email":
        return None
    url = settings.env.get("HUIKUAN_SMTP_URL")
    if not url:
        raise DeliveryError("HUIKUAN_SMTP_URL is not set", temporary=True)
    parts = urlsplit(url)
    mail = EmailMessage()
    mail["From"] = settings.section("email").get("from_address", "huikuan <ar@localhost>")
    mail["To"] = message.recipient or ""
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{message.message_id}@huikuan>"
    mail.set_content(message.body)
    if message.document:  # a written demand goes with its letter, as printed
        mail.add_attachment(message.document, maintype="application", subtype="pdf",
                            filename=f"{message.message_id}.pdf")
    try:
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                parts.hostname or "localhost", parts.port or 465, timeout=30,
                context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(parts.hostname or "localhost", parts.port or 25, timeout=30)
        with client:
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(mail)
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(f"recipient refused: {error}", temporary=False) from None
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"SMTP: {error}", temporary=True) from None
    return DeliveryReceipt(reference=mail["Message-ID"])
