"""Letters rendered as documents, ready to print, sign and send by courier (EMS 签收).

Each letter is written to ``HUIKUAN_LETTER_DIR`` (default ``./var/letters``) as
``<message id>.pdf``, the letter printed on the letterhead (the dispatcher hands it over,
``OutgoingMessage.document``), or as ``<message id>.txt`` when no plugin printed one;
writing it again after a crash gives the same letter.
"""

from __future__ import annotations

from pathlib import Path

from huikuan.core.plugin import DeliveryError, DeliveryReceipt, OutgoingMessage, Settings, hookimpl


@hookimpl
def huikuan_send_message(message: OutgoingMessage, settings: Settings) -> DeliveryReceipt | None:
    if message.channel != "letter":
        return None
    folder = Path(settings.env.get("HUIKUAN_LETTER_DIR", "var/letters"))
    path = folder / f"{message.message_id}.{'pdf' if message.document else 'txt'}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if message.document:
            path.write_bytes(message.document)
        else:
            text = f"{message.recipient or ''}\n\n{message.subject}\n\n{message.body}"
            path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise DeliveryError(f"cannot write the letter: {error}", temporary=True) from None
    return DeliveryReceipt(reference=str(path))
