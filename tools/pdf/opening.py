"""Opening untrusted PDF bytes with pypdf: repair a broken xref or trailer, then decrypt.

Nothing here bounds time or memory: ``tools.pdf.pool.PdfPool`` runs it in worker processes
with a deadline and RLIMIT_AS.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pypdf
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from tools.errors import DamagedDocument, EncryptedDocument

# pypdf raises many exception types on hostile input, not only PyPdfError; these are the
# ones seen in practice. MemoryError is deliberately absent: the worker handles it.
PYPDF_FAILURES: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    AssertionError,
    RecursionError,
    OverflowError,
    UnicodeError,
    zlib.error,
    struct.error,
)


@dataclass
class OpenedPdf:
    """A PdfReader plus what opening it revealed."""

    reader: PdfReader
    page_count: int
    damaged: bool = False
    repairs: list[str] = field(default_factory=list)
    encryption: str | None = None  # algorithm name when the file was encrypted
    password_used: str | None = None  # which password opened it ("" for an empty user password)


# ---------------------------------------------------------------------------- opening

_DAMAGE_HINT = re.compile(
    r"xref|startxref|trailer|EOF|rebuil|circular|object.*(not found|missing)|root", re.I
)


@contextmanager
def _pypdf_warnings() -> Iterator[list[str]]:
    """Collect what pypdf logs while it works around a broken file (strict=False)."""
    notes: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            notes.append(record.getMessage())

    handler = _Collect(level=logging.WARNING)
    log = logging.getLogger("pypdf")
    log.addHandler(handler)
    try:
        yield notes
    finally:
        log.removeHandler(handler)


def open_pdf(
    data: bytes,
    *,
    name: str,
    password: str | None = None,
    default_password: str | None = None,
) -> OpenedPdf:
    """Open PDF bytes, repairing a broken xref or missing trailer, and decrypt if needed."""
    if not data:
        raise DamagedDocument(f"{name} is empty (0 bytes); it is not a PDF")
    if b"%PDF-" not in data[:1024]:
        raise DamagedDocument(
            f"{name} has no PDF header (%PDF-) in its first 1024 bytes; it is not a PDF, "
            "or it is damaged beyond repair"
        )
    repairs: list[str] = []
    with _pypdf_warnings() as notes:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
            page_count = _count_pages(reader)
        except PYPDF_FAILURES as exc:
            repaired = repair_pdf(data)
            if repaired is None:
                raise DamagedDocument(
                    f"{name} is damaged beyond repair ({type(exc).__name__}: {exc}); "
                    "no PDF objects could be recovered"
                ) from exc
            repairs.append(f"rebuilt the cross-reference table and trailer after: {exc}")
            try:
                reader = PdfReader(io.BytesIO(repaired), strict=False)
                page_count = _count_pages(reader)
            except PYPDF_FAILURES as exc2:
                raise DamagedDocument(
                    f"{name} is damaged beyond repair; even after rebuilding its cross-reference "
                    f"table pypdf could not read it ({type(exc2).__name__}: {exc2})"
                ) from exc2
    repairs.extend(dict.fromkeys(n for n in notes if _DAMAGE_HINT.search(n)))
    declared = _declared_page_count(reader)
    if repairs and declared is not None and declared > page_count:
        repairs.append(
            f"the page tree lists {declared} pages but only {page_count} could be found; the rest were lost"
        )
    opened = OpenedPdf(reader, page_count, damaged=bool(repairs), repairs=repairs[:10])
    if reader.is_encrypted:
        opened.encryption, opened.password_used = _decrypt(
            reader, name=name, password=password, default_password=default_password
        )
        opened.page_count = _count_pages(reader)
    return opened


def _declared_page_count(reader: PdfReader) -> int | None:
    try:
        return int(reader.trailer["/Root"].get_object()["/Pages"].get_object()["/Count"])
    except PYPDF_FAILURES:
        return None


def _count_pages(reader: PdfReader) -> int:
    if reader.is_encrypted and not _is_decrypted(reader):
        return 0  # the page tree cannot be read before decryption
    return len(reader.pages)


def _is_decrypted(reader: PdfReader) -> bool:
    # pypdf tries the empty user password on open; probe whether that unlocked the file.
    try:
        reader.trailer["/Root"].get_object()
        return True
    except PyPdfError:
        return False


def _decrypt(
    reader: PdfReader, *, name: str, password: str | None, default_password: str | None
) -> tuple[str, str]:
    algorithm = encryption_name(reader)
    candidates = [p for p in (password, default_password) if p is not None]
    for candidate in [*candidates, ""]:
        try:
            if reader.decrypt(candidate) != pypdf.PasswordType.NOT_DECRYPTED:
                return algorithm, candidate
        except PYPDF_FAILURES as exc:
            raise EncryptedDocument(
                f"{name} is encrypted ({algorithm}) in a way pypdf cannot open: {exc}"
            ) from exc
    if password is not None:
        raise EncryptedDocument(
            f"the password given for {name} is wrong (the file is encrypted with {algorithm}); "
            "ask the user for the right password and call again with password='...'"
        )
    raise EncryptedDocument(
        f"{name} is encrypted ({algorithm}) and needs a password; call again with password='...', "
        "or start the pdf server with the FORAGE_PDF_PASSWORD environment variable set"
    )


def encryption_name(reader: PdfReader) -> str:
    """Name the encryption algorithm from the /Encrypt dictionary (RC4, AES-128, AES-256)."""
    try:
        enc = reader.trailer["/Encrypt"].get_object()
        version = int(enc.get("/V", 0))
        if version >= 5:
            return "AES-256"
        if version == 4:
            cfm = enc["/CF"][enc.get("/StmF", "/StdCF")].get("/CFM")
            return {"/AESV2": "AES-128", "/AESV3": "AES-256", "/V2": "RC4-128"}.get(str(cfm), f"V4 {cfm}")
        bits = int(enc.get("/Length", 40))
        return f"RC4-{bits}"
    except PYPDF_FAILURES:
        return "an unknown algorithm"


_OBJ_START = re.compile(rb"(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b")
_CATALOG = re.compile(rb"/Type\s*/Catalog\b")
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def repair_pdf(data: bytes) -> bytes | None:
    """Append a rebuilt xref table and trailer built by scanning for complete objects.

    Only objects that end with `endobj` are listed, so a cut-off object reads as missing
    instead of as garbage. The trailer's /Root is the last catalog found; when there is
    none (the catalog was cut off), a new page tree is made from the page objects found.
    """
    offsets: dict[int, int] = {}
    catalog: int | None = None
    pages: list[int] = []
    matches = list(_OBJ_START.finditer(data))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(data)
        body = data[m.end() : end]
        if b"endobj" not in body:
            continue
        num = int(m.group(1))
        offsets[num] = m.start()
        head = body[:4096]
        if _CATALOG.search(head):
            catalog = num
        elif _PAGE.search(head):
            pages.append(num)
    if not offsets:
        return None
    out = bytearray(data)
    out += b"\n"
    size = max(offsets) + 1
    if catalog is None:
        if not pages:
            return None
        pages_num, catalog = size, size + 1
        kids = b" ".join(b"%d 0 R" % p for p in pages)
        for num, body in (
            (
                pages_num,
                b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 612 792] >>" % (kids, len(pages)),
            ),
            (catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_num),
        ):
            offsets[num] = len(out)
            out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
        size += 2
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num] if num in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, catalog, xref_at)
    return bytes(out)
