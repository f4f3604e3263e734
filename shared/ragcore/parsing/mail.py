"""EML (stdlib email): a header block, the text body (plain, else HTML as text), then readable attachments.

Attachments of a supported type are parsed with the same parsers (an attached PDF gives its pages' text);
images and nested mails are listed by name only. Attachment failures are noted in meta, never fatal.
"""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage, Message
from typing import Any

from ragcore.parsing.guards import decode_text
from ragcore.parsing.markup import html_to_blocks
from ragcore.parsing.types import Block, ParsedDocument, ParseError

HEADERS = ("From", "To", "Cc", "Date", "Subject")
_MAX_ATTACHMENTS = 50


def parse_eml(data: bytes) -> ParsedDocument:
    try:
        msg = email.message_from_bytes(data, policy=policy.default)
    except Exception as exc:
        raise ParseError(f"The EML file is corrupt: {exc or type(exc).__name__}.") from None
    if not any(msg.get(h) for h in (*HEADERS, "Message-ID", "Received")):
        raise ParseError("The EML file is corrupt: it has no e-mail headers (From, To, Subject …).")
    head = [f"{h}: {_header(msg, h)}" for h in HEADERS if msg.get(h)]
    blocks = [Block(text="\n".join(head), meta={"part": "headers"})]
    meta: dict[str, Any] = {"subject": _header(msg, "Subject"), "attachments": [], "attachment_errors": []}

    plain: list[str] = []
    html: list[str] = []
    attachments: list[Message] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = (part.get_content_disposition() or "").lower()
        ctype = part.get_content_type()
        if filename or disposition == "attachment":
            attachments.append(part)
        elif ctype == "text/plain":
            plain.append(_text(part))
        elif ctype == "text/html":
            html.append(_text(part))
    if plain:
        for body in plain:
            blocks.extend(Block(text=p.strip(), meta={"part": "body"}) for p in body.split("\n\n") if p.strip())
    else:
        for body in html:
            found, _ = html_to_blocks(body)
            for b in found:
                b.meta["part"] = "body"
            blocks.extend(found)
    for attached in attachments[:_MAX_ATTACHMENTS]:
        blocks.extend(_attachment(attached, meta))
    return ParsedDocument(blocks=blocks, pages=1, meta=meta)


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload())
    charset = part.get_content_charset()
    if charset:
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            pass
    return decode_text(payload)


def _attachment(part: Message, meta: dict[str, Any]) -> list[Block]:
    from ragcore.parsing import IMAGE_SUFFIXES, is_supported, parse_document, suffix_of

    name = part.get_filename() or "attachment"
    meta["attachments"].append(name)
    data = part.get_payload(decode=True)
    if isinstance(part, EmailMessage) and part.get_content_type() == "message/rfc822":
        return []
    suffix = suffix_of(name)
    if not isinstance(data, bytes) or not data or suffix in IMAGE_SUFFIXES or suffix == "eml":
        return []
    if not is_supported(name):
        if part.get_content_maintype() != "text":
            return []
        name += ".txt"
    try:
        parsed = parse_document(name, data)
    except ParseError as exc:
        meta["attachment_errors"].append(f"{name}: {exc}")
        return []
    out = [Block(text=f"Attachment: {part.get_filename() or name}", kind="title", level=1,
                 meta={"attachment": name})]
    for block in parsed.blocks:
        block.meta["attachment"] = name
        block.page = 0  # the mail has no pages; an attached PDF's page numbers would mislead
        out.append(block)
    return out
