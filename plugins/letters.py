"""Letters rendered as documents, ready to print, sign and send by courier (EMS 签收).

Each letter is written to ``HUIKUAN_LETTER_DIR`` (default ``./var/letters``) as
``<message id>.txt``; writing it again after a crash gives the same file.
"""

from __future__ import annotations

from pathlib import Path

from huikuan.core.plugin import DeliveryError, DeliveryReceipt, OutgoingMessage, Settings, hookimpl


@hookimpl
def huikuan_send_message(message: OutgoingMessage, settings: Settings) -> DeliveryReceipt | None:
    if message.channel != "letter":
        return None
    folder = Path(settings.env.get("HUIKUAN_LETTER_DIR", "var/letters"))
    path = folder / f"{message.message_id}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        text = f"{message.recipient or ''}\n\n{message.subject}\n\n{message.body}"
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise DeliveryError(f"cannot write the letter: {error}", temporary=True) from None
    return DeliveryReceipt(reference=str(path))
