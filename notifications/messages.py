"""An EmailMessage as JSON and back, so the outbox can hold it until the worker sends it.

Kept: subject, bodies, addresses, extra headers, HTML and other alternatives, attachments
(text or binary, such as an event's .ics). An attachment given as a ready MIME part is refused:
nothing here builds one, and a silent loss would be worse than an error in the write.
"""

import base64
from email.mime.base import MIMEBase

from django.core.mail import EmailMessage, EmailMultiAlternatives


def serialise(message: EmailMessage) -> dict:
    attachments = []
    for attachment in message.attachments:
        if isinstance(attachment, MIMEBase):
            raise ValueError("The outbox takes attachments as (filename, content, mimetype), not MIME parts.")
        filename, content, mimetype = attachment
        if isinstance(content, bytes):
            attachments.append([filename, base64.b64encode(content).decode("ascii"), mimetype, "base64"])
        else:
            attachments.append([filename, content, mimetype, "text"])
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": {name: str(value) for name, value in message.extra_headers.items()},
        "content_subtype": message.content_subtype,
        "alternatives": [
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        "attachments": attachments,
    }


def rebuild(data: dict, *, connection=None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
        connection=connection,
    )
    message.content_subtype = data.get("content_subtype", "plain")
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    for filename, content, mimetype, encoding in data["attachments"]:
        message.attach(filename, base64.b64decode(content) if encoding == "base64" else content, mimetype)
    return message


def recipients(data: dict) -> list[str]:
    return [*data["to"], *data["cc"], *data["bcc"]]
