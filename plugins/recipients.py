"""Where a queued message goes: the customer's contacts, the collector, the customer's name.

An e-mail goes to the first contact with an e-mail address, a text to the first with a
phone number (none: no recipient, and the dispatcher fails the message); a task goes
to the account's collector; anything else (a letter) to the customer by name, followed
by the postal address when one is known, printed in the customer's language.
"""

from __future__ import annotations

from huikuan.core.plugin import AccountView, MessageRequest, Settings, address_lines, hookimpl

# The contact field that holds the address for each channel.
ADDRESS_FIELD = {"email": "email", "sms": "phone"}


@hookimpl(trylast=True)
def huikuan_message_recipient(
    request: MessageRequest, account: AccountView, settings: Settings
) -> str | None:
    field = ADDRESS_FIELD.get(request.channel)
    if field is not None:
        for contact in account.contacts:
            if contact.get(field):
                return str(contact[field])
        return None
    if request.channel == "worklist":
        return account.collector
    return "\n".join([account.name, *address_lines(account.address, account.language)])
