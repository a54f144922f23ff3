"""Text messages through an HTTP webhook: ``HUIKUAN_SMS_WEBHOOK_URL``.

Posts ``{"message_id", "to", "text"}`` as JSON with the message id also in the
``Idempotency-Key`` header. A 2xx answer is delivery; 429 and 5xx are retried;
any other 4xx is final.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from huikuan.core.plugin import DeliveryError, DeliveryReceipt, OutgoingMessage, Settings, hookimpl


@hookimpl
def huikuan_send_message(message: OutgoingMessage, settings: Settings) -> DeliveryReceipt | None:
    if message.channel != "sms":
        return None
    url = settings.env.get("HUIKUAN_SMS_WEBHOOK_URL")
    if not url:
        raise DeliveryError("HUIKUAN_SMS_WEBHOOK_URL is not set", temporary=True)
    if not url.startswith(("http://", "https://")):
        raise DeliveryError("HUIKUAN_SMS_WEBHOOK_URL must be an http(s) URL", temporary=False)
    payload = json.dumps({"message_id": message.message_id, "to": message.recipient,
                          "text": f"{message.subject}\n{message.body}"}, ensure_ascii=False)
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url, data=payload.encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8",
                 "Idempotency-Key": message.message_id})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            reference = response.headers.get("X-Message-Reference")
    except urllib.error.HTTPError as error:
        temporary = error.code == 429 or error.code >= 500
        raise DeliveryError(f"SMS webhook answered {error.code}", temporary=temporary) from None
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryError(f"SMS webhook: {error}", temporary=True) from None
    return DeliveryReceipt(reference=reference)
