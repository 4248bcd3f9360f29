"""Sheets as Excel saves them: CSV in UTF-8 (with or without BOM), UTF-16 or Windows-1252, with
comma, semicolon or tab; and XLSX, read-only and streamed, with limits against zip bombs.

`parse_sheet` only reads: it finds the header, numbers the rows as the spreadsheet does (header is
row 1) and hands back cell values. What a cell must contain is `validation`'s business.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any, Literal

from odop_sync.config import LimitSettings
from odop_sync.kit.problems import (
    FieldIssue,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationProblem,
)
from odop_sync.kit.text import clean

__all__ = ["REQUIRED_COLUMNS", "ParsedSheet", "decode_text", "normalise_column", "parse_sheet"]

REQUIRED_COLUMNS = ("sku",)

ZIP_MAGIC = b"PK\x03\x04"
# Legacy .xls, and also every password-protected Office file: both are OLE2 compound documents.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# Files people pick by mistake in the upload dialog; named so the answer can say what they sent.
OTHER_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
# Refused by content type alone; anything else (browsers send application/vnd.ms-excel or
# application/octet-stream for a .csv) is judged by its bytes.
REFUSED_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/msword")
# A member this small cannot hurt however well it compresses; repetitive sheets compress very well.
RATIO_FLOOR_BYTES = 1_000_000

# Columns read from an XLSX row; the contract's columns and a sheet's attr.* extras are far fewer.
MAX_COLUMNS = 1000

SAVE_AS = "in Excel use File > Save As > Excel Workbook (.xlsx) or CSV UTF-8, then upload that"


@dataclass(frozen=True)
class ParsedSheet:
    source: Literal["csv", "xlsx"]
    # (spreadsheet row number, {normalised column: value}); fully empty rows are left out.
    rows: list[tuple[int, dict[str, Any]]]
    columns: list[str]


def normalise_column(name: object) -> str:
    """' Title-EN ' -> 'title_en'; a BOM or stray spaces from Excel do not matter."""
    text = clean(name).replace("\ufeff", "").strip().lower()
    return "_".join(text.replace("-", " ").split())


def parse_sheet(
    content: bytes, *, filename: str | None, content_type: str | None, limits: LimitSettings
) -> ParsedSheet:
    """Read a CSV or XLSX sheet. Raises UnsupportedMediaType (415) for other files, PayloadTooLarge
    (413) over a limit, ValidationProblem (422) for a broken workbook or a missing header."""
    fmt = _detect_format(content, filename, content_type)
    if fmt == "xlsx":
        return _parse_xlsx(content, limits)
    return _parse_csv(decode_text(content), limits)


def _detect_format(
    content: bytes, filename: str | None, content_type: str | None
) -> Literal["csv", "xlsx"]:
    suffix = PurePath(filename or "").suffix.lower()
    ctype = (content_type or "").split(";")[0].strip().lower()
    if content.startswith(OLE_MAGIC) or (suffix == ".xls" and not content.startswith(ZIP_MAGIC)):
        raise UnsupportedMediaType(
            "this is an old Excel .xls file (or a password-protected workbook), which cannot be "
            f"read; remove any password, then {SAVE_AS}"
        )
    for magic, what in OTHER_MAGIC.items():
        if content.startswith(magic):
            raise UnsupportedMediaType(f"the file is {what}, not a sheet; {SAVE_AS}")
    if ctype.startswith(REFUSED_TYPES):
        raise UnsupportedMediaType(f"a {ctype} file is not a sheet; {SAVE_AS}")
    if content.startswith(ZIP_MAGIC):
        if suffix in (".ods", ".numbers", ".docx", ".pptx"):
            raise UnsupportedMediaType(f"a {suffix} file cannot be read; {SAVE_AS}")
        return "xlsx"
    if suffix in XLSX_SUFFIXES:
        raise ValidationProblem(
            f"the file is named {suffix} but is not a valid Excel workbook; open it in Excel "
            "and save it again"
        )
    head = content[:512].lstrip().lower()
    if head.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
        # Some portals export HTML or XML "spreadsheets" with an .xls name.
        raise UnsupportedMediaType(f"the file is a web page or XML, not a sheet; {SAVE_AS}")
    if b"\x00" in content[:4096] and not _looks_utf16(content):
        raise UnsupportedMediaType(f"the file is neither CSV text nor an XLSX workbook; {SAVE_AS}")
    return "csv"


def _looks_utf16(content: bytes) -> bool:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = content[:4096]
    # The ASCII header of a UTF-16 file has a NUL in every other byte.
    return len(head) >= 4 and (
        head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4
    )


def decode_text(content: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 (BOM, or guessed from the NUL pattern), else Windows-1252."""
    if content.startswith(b"\xef\xbb\xbf"):
        return _decode(content[3:], "utf-8")
    if content.startswith(b"\xff\xfe"):
        return _decode(content[2:], "utf-16-le")
    if content.startswith(b"\xfe\xff"):
        return _decode(content[2:], "utf-16-be")
    if _looks_utf16(content):
        head = content[:4096]
        le = head[1::2].count(0) >= head[0::2].count(0)
        return _decode(content, "utf-16-le" if le else "utf-16-be")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        # Excel's "CSV (Comma delimited)" on Windows writes the ANSI code page, Windows-1252;
        # its five unassigned bytes become U+FFFD rather than failing the whole sheet.
        return content.decode("cp1252", errors="replace")


def _decode(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        raise ValidationProblem(
            f"the file says it is {encoding.upper()} text but is not; {SAVE_AS}"
        ) from None


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _parse_csv(text: str, limits: LimitSettings) -> ParsedSheet:
    text = text.removeprefix("\ufeff")
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    try:
        columns, rows = _collect(reader, limits)
    except csv.Error as exc:
        raise ValidationProblem(f"the CSV cannot be read: {exc}") from None
    return ParsedSheet("csv", rows, columns)


def _blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _too_many_rows(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the sheet has more than {limit:,} rows, the limit per batch (max_rows_per_batch); "
        "empty rows count too. Delete the empty rows below the last item (in Excel: select "
        "them, right-click, Delete) or split the sheet into several"
    )


def _collect(
    records: Iterable[Sequence[Any]], limits: LimitSettings
) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Header and rows, numbered as the spreadsheet numbers them. One CSV record is one row even
    when a quoted cell spans several lines. Blank rows above the header (a habit of hand-made
    sheets) and blank rows between items are skipped; the numbering still counts them.

    Reading stops at the row limit, and blank rows count against it: a workbook that claims a
    million empty rows (its dimension, or rows of empty cells) is refused after the limit,
    not read to its end."""
    limit = limits.max_rows_per_batch
    numbered = enumerate(records, start=1)
    header_no, header = 1, None
    for n, cells in numbered:
        if not _blank(cells):
            header_no, header = n, cells
            break
        if n > limit:
            raise _too_many_rows(limit)
    columns = _check_header(header, header_no)
    rows: list[tuple[int, dict[str, Any]]] = []
    last = header_no + limit
    for row_no, cells in numbered:
        if row_no > last:
            raise _too_many_rows(limit)
        if not _blank(cells):
            rows.append((row_no, _row(columns, cells)))
    if not rows:
        raise ValidationProblem(
            "the sheet has no items below its header row",
            errors=[
                FieldIssue(
                    row=header_no + 1, field=None, message="add the items below the header row"
                )
            ],
        )
    return columns, rows


def _check_header(header: Sequence[Any] | None, row: int) -> list[str]:
    columns = [normalise_column(h) for h in header or ()]
    if not any(columns):
        raise ValidationProblem(
            "the sheet has no header row",
            errors=[
                FieldIssue(
                    row=row,
                    field=c,
                    message=f"row 1 must name the columns, starting with {c!r}",
                )
                for c in REQUIRED_COLUMNS
            ],
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationProblem(
            "the header row does not name the required columns: " + ", ".join(missing),
            errors=[
                FieldIssue(row=row, field=c, message=f"add a column named {c!r} to the header row")
                for c in missing
            ],
        )
    return columns


def _row(columns: list[str], cells: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=False):
        if not column:
            continue
        value = _cell(cell)
        # Two columns with one name: the first filled one wins, an empty twin does not erase it.
        if out.get(column) is None:
            out[column] = value
    return out


def _cell(cell: Any) -> Any:
    if isinstance(cell, str):
        text = clean(cell)
        return text or None
    if isinstance(cell, datetime | date | time):
        return cell.isoformat()
    if isinstance(cell, timedelta):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < 2**53:
        return int(cell)
    if isinstance(cell, Decimal):
        # Rows are stored as JSON before validation; a Decimal would not serialise. openpyxl
        # reads numbers as int or float, so this is only a guard.
        return str(cell)
    return cell


def _check_zip(content: bytes, limits: LimitSettings) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise ValidationProblem(
            "the file is not a valid XLSX workbook (it is damaged or incomplete); open it in "
            "Excel and save it again"
        ) from None
    if "xl/workbook.xml" not in names and not any(n.endswith("workbook.xml") for n in names):
        raise ValidationProblem(f"the file is a zip archive but not an Excel workbook; {SAVE_AS}")
    # The declared sizes bound what zipfile will inflate: it stops at file_size and fails the CRC.
    total = sum(m.file_size for m in members)
    if total > limits.xlsx_max_uncompressed_bytes:
        raise PayloadTooLarge(
            f"the workbook expands to {total:,} bytes; the limit is "
            f"{limits.xlsx_max_uncompressed_bytes:,} (xlsx_max_uncompressed_bytes). "
            "Split the sheet or save it as CSV"
        )
    for m in members:
        if m.file_size <= RATIO_FLOOR_BYTES:
            continue
        ratio = m.file_size / max(m.compress_size, 1)
        if ratio > limits.xlsx_max_compression_ratio:
            raise PayloadTooLarge(
                f"the workbook part {m.filename!r} is compressed {int(ratio)}:1, above the limit "
                f"of {limits.xlsx_max_compression_ratio}:1 (xlsx_max_compression_ratio), which "
                "is how zip bombs look; save the sheet again from Excel"
            )


def _parse_xlsx(content: bytes, limits: LimitSettings) -> ParsedSheet:
    _check_zip(content, limits)
    import openpyxl  # slow to import; only workbooks need it

    try:
        # openpyxl parses the XML with defusedxml when it is installed (it is a dependency).
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise ValidationProblem(
            f"the XLSX workbook cannot be read ({type(exc).__name__}); open it in Excel and "
            "save it again"
        ) from None
    try:
        if not workbook.worksheets:
            raise ValidationProblem("the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        # The dimension a workbook declares sets how wide openpyxl makes every row; a claim of
        # all 16,384 columns would make each row that wide. No sheet of ours needs more.
        wide = (sheet.max_column or 0) > MAX_COLUMNS
        records = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS if wide else None)
        columns, rows = _collect(records, limits)
    finally:
        workbook.close()
    return ParsedSheet("xlsx", rows, columns)
