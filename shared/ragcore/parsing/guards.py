"""Checks run on raw bytes before a library opens them: empty files, zip bombs, text decoding."""

from __future__ import annotations

import codecs
import io
import zipfile

from ragcore.parsing.types import MAX_UNZIPPED_BYTES, MAX_ZIP_MEMBERS, MAX_ZIP_RATIO, ParseError

_MB = 1024 * 1024
# A member smaller than this may have any ratio: tiny, highly repetitive XML parts are normal.
_RATIO_FLOOR = 16 * _MB


def require_bytes(data: bytes) -> None:
    # look at the head first: stripping a large file would copy all of it
    if not data or (not data[:4096].strip() and not data.strip()):
        raise ParseError("The file is empty.")


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """Open an Office (OOXML) container after checking its directory for bombs, without inflating anything."""
    require_bytes(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ParseError(f"The {kind} file is corrupt: it is not a valid Office Open XML (zip) package.") from None
    except Exception as exc:
        raise ParseError(f"The {kind} file is corrupt: {exc}.") from None
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ParseError(f"The archive holds more than {MAX_ZIP_MEMBERS} files (possible zip bomb).")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNZIPPED_BYTES or (info.file_size > _RATIO_FLOOR and ratio > MAX_ZIP_RATIO):
            raise ParseError(f"The archive expands to more than {MAX_UNZIPPED_BYTES // _MB} MB (possible zip bomb).")
    names = {i.filename for i in infos}
    if "EncryptionInfo" in names or "EncryptedPackage" in names:
        raise ParseError(f"The {kind} file is encrypted; upload it without a password.")
    if "[Content_Types].xml" not in names:
        raise ParseError(f"The {kind} file is corrupt: [Content_Types].xml is missing.")
    return archive


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def reject_ole(data: bytes, kind: str, suffix: str) -> None:
    """Password-protected OOXML files and legacy .doc/.xls/.ppt are OLE compound files, not zips."""
    if data.startswith(_OLE_MAGIC):
        if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data:
            raise ParseError(f"The {kind} file is encrypted; upload it without a password.")
        raise ParseError(
            f"The file is a legacy binary Office document, not {suffix}; save it as {suffix} and upload it again."
        )


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes) -> str:
    """Bytes of a text file → str: BOM, then UTF-8, then UTF-16 without BOM, then GB18030, then cp1252."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    sample = data[:4096]
    if len(sample) >= 4:
        # ASCII text in UTF-16 has a NUL in every other byte
        odd_nuls = sample[1::2].count(0) / max(len(sample[1::2]), 1)
        even_nuls = sample[0::2].count(0) / max(len(sample[0::2]), 1)
        if odd_nuls > 0.4 and even_nuls < 0.1:
            return data.decode("utf-16-le", errors="replace")
        if even_nuls > 0.4 and odd_nuls < 0.1:
            return data.decode("utf-16-be", errors="replace")
    try:
        text = data.decode("gb18030")
        # gb18030 accepts almost anything; trust it only when it yields real CJK text
        cjk = sum(1 for ch in text[:2000] if "\u4e00" <= ch <= "\u9fff")
        if cjk >= max(2, len(text[:2000]) // 20):
            return text
    except UnicodeDecodeError:
        pass
    return data.decode("cp1252", errors="replace")


def looks_binary(data: bytes) -> bool:
    """A text-type file whose first KB has NUL bytes (and no UTF-16 shape) is not text."""
    head = data[:1024]
    if not head or any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    nuls = head.count(0)
    if not nuls:
        return False
    odd = head[1::2].count(0) / max(len(head[1::2]), 1)
    even = head[0::2].count(0) / max(len(head[0::2]), 1)
    return not (odd > 0.4 or even > 0.4)
