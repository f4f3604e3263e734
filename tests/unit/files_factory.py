"""Small, real files of every supported type, built in memory for tests and benches.

    from tests.unit.files_factory import make_pdf, make_docx, make_xlsx, make_pptx

make_pdf writes PDF syntax by hand (Helvetica text, one content stream per page) so no PDF library is
needed to create test input; the Office builders use python-docx / openpyxl / python-pptx.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

Page = Sequence[str] | Sequence[tuple[str, int]]  # lines, or (line, font size) pairs


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: Sequence[Page], *, compress: bool = False) -> bytes:
    """A PDF whose page i shows pages[i]'s lines top to bottom (latin-1 text only)."""
    import zlib

    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids: list[int] = []
    for page in pages:
        ops = ["BT"]
        y = 760
        for item in page:
            line, size = (item, 11) if isinstance(item, str) else item
            ops.append(f"/F1 {size} Tf 1 0 0 1 56 {y} Tm ({_pdf_escape(line)}) Tj")
            y -= int(size * 1.45)
            if y < 40:
                break
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        if compress:
            stream = zlib.compress(stream)
            head = f"<< /Length {len(stream)} /Filter /FlateDecode >>".encode()
        else:
            head = f"<< /Length {len(stream)} >>".encode()
        content = add(head + b"\nstream\n" + stream + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>".encode()
            )
        )
    return serialize_pdf(objects, catalog, pages_obj, kids)


def serialize_pdf(objects: list[bytes], catalog: int, pages_obj: int, kids: list[int]) -> bytes:
    """A PDF file of numbered objects (1-based): the catalog and page tree filled in, then the cross-reference table."""
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    objects[pages_obj - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def encrypt_pdf(data: bytes, user_password: str = "secret", owner_password: str = "owner") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def lorem_pages(count: int, lines_per_page: int = 40, *, seed: int = 7) -> list[list[str]]:
    """Deterministic prose: wrapped lines of ~80 characters, paragraphs ending in full stops, a heading per page."""
    import random

    rng = random.Random(seed)
    vocab = [
        "data", "model", "river", "system", "engine", "window", "garden", "signal", "market", "paper", "value", "network", "structure", "policy", "energy", "letter", "station", "travel", "income", "pattern", "method", "result", "contract", "member", "process", "language", "storage",
    ]
    pages: list[list[str]] = []
    for p in range(count):
        lines = [f"Section {p + 1}. Topic {vocab[p % len(vocab)]}"]
        current = ""
        while len(lines) < lines_per_page:
            word = rng.choice(vocab)
            if len(current) + len(word) + 1 > 80:
                lines.append(current)
                current = ""
            current = f"{current} {word}".strip()
            if rng.random() < 0.06:
                lines.append(current + ".")
                current = ""
        pages.append(lines)
    return pages


def make_docx(
    paragraphs: Sequence[tuple[str, str]] = (),
    *,
    tables: Sequence[Sequence[Sequence[str]]] = (),
) -> bytes:
    """paragraphs: (style, text) pairs, style 'Title', 'Heading 1'…'Heading 9', 'List Bullet' or 'Normal'."""
    import docx

    document = docx.Document()
    for style, text in paragraphs:
        document.add_paragraph(text, style=style)
    for rows in tables:
        table = document.add_table(rows=len(rows), cols=len(rows[0]) if rows else 0)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    first = True
    for name, rows in sheets.items():
        if first:
            sheet = book.active
            assert sheet is not None
            sheet.title = name
            first = False
        else:
            sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_pptx(slides: Sequence[tuple[str, Sequence[str]]], *, notes: Sequence[str] = ()) -> bytes:
    """slides: (title, bullet lines) pairs; notes[i] becomes slide i's speaker notes."""
    from pptx import Presentation

    deck = Presentation()
    layout = deck.slide_layouts[1]  # title and content
    for i, (title, bullets) in enumerate(slides):
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        for j, line in enumerate(bullets):
            para = body.paragraphs[0] if j == 0 else body.add_paragraph()
            para.text = line
        if i < len(notes):
            slide.notes_slide.notes_text_frame.text = notes[i]
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def make_eml(
    subject: str, body: str, *, sender: str = "alice@example.com", to: str = "bob@example.com",
    html: str | None = None, attachments: Sequence[tuple[str, bytes, str]] = (),
) -> bytes:
    """attachments: (filename, bytes, mime type) triples."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 24 Nov 2025 10:00:00 +0000"
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


def make_zip_bomb(kind: str = "docx", size_mb: int = 64) -> bytes:
    """An OOXML-shaped zip whose one member inflates to size_mb MB of zeros (a few hundred KB on disk)."""
    main = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        chunk = b"\0" * (1024 * 1024)
        with archive.open(main, "w", force_zip64=True) as member:
            for _ in range(size_mb):
                member.write(chunk)
    return out.getvalue()
