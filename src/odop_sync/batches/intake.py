"""Sheets as Excel saves them: CSV in UTF-8 (with or without BOM), UTF-16 or Windows-1252, with
comma, semicolon or tab; and XLSX, read-only and streamed, with limits against zip bombs."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from odop_sync.config import LimitSettings
from odop_sync.kit.problems import (
    FieldIssue,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationProblem,
)
from odop_sync.kit.text import clean

REQUIRED_COLUMNS = ("sku",)
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and other OLE2 documents)


@dataclass(frozen=True)
class ParsedSheet:
    source: Literal["csv", "xlsx"]
    rows: list[tuple[int, dict[str, Any]]]
    columns: list[str]


def normalise_column(name: object) -> str:
    text = clean(name).lstrip("\ufeff").strip().lower()
    return "_".join(text.replace("-", " ").split())


def parse_sheet(
    content: bytes, *, filename: str | None, content_type: str | None, limits: LimitSettings
) -> ParsedSheet:
    name = (filename or "").lower()
    if content.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise UnsupportedMediaType(
            "this is an old Excel .xls file; in Excel use Save As > Excel Workbook (.xlsx) "
            "or CSV UTF-8, then upload that"
        )
    if content.startswith(XLSX_MAGIC):
        return _parse_xlsx(content, limits)
    if name.endswith((".xlsx", ".xlsm")):
        raise ValidationProblem("the file is named .xlsx but is not a valid Excel workbook")
    if b"\x00" in content[:4096] and not _looks_utf16(content):
        raise UnsupportedMediaType("the file is neither CSV text nor an XLSX workbook")
    try:
        text = decode_text(content)
    except UnicodeDecodeError:
        raise UnsupportedMediaType(
            "the file is neither CSV text nor an XLSX workbook; save the sheet from Excel as "
            "CSV UTF-8 or Excel Workbook (.xlsx)"
        ) from None
    return _parse_csv(text, limits)


def _looks_utf16(content: bytes) -> bool:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = content[:4096]
    # ASCII text in UTF-16 has a NUL in every other byte.
    return len(head) >= 4 and (
        head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4
    )


def decode_text(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    if _looks_utf16(content):
        head = content[:4096]
        return content.decode(
            "utf-16-le" if head[1::2].count(0) >= head[0::2].count(0) else "utf-16-be"
        )
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        # Excel's "CSV (Comma delimited)" on Windows writes the ANSI code page, Windows-1252.
        return content.decode("cp1252", errors="replace")


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _parse_csv(text: str, limits: LimitSettings) -> ParsedSheet:
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationProblem(
                "the sheet is empty",
                errors=[FieldIssue(row=1, field=None, message="no header row")],
            )
        columns = _check_header(header)
        rows: list[tuple[int, dict[str, Any]]] = []
        for line_no, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= limits.max_rows_per_batch:
                raise PayloadTooLarge(
                    f"the sheet has more than {limits.max_rows_per_batch} rows; split it"
                )
            rows.append((line_no, _row(columns, cells)))
    except csv.Error as exc:
        raise ValidationProblem(f"the CSV cannot be read: {exc}") from None
    return ParsedSheet("csv", rows, columns)


def _check_header(header: list[Any]) -> list[str]:
    columns = [normalise_column(h) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationProblem(
            "the header row does not name the required columns",
            errors=[
                FieldIssue(row=1, field=c, message=f"add a column named {c!r} to the header row")
                for c in missing
            ],
        )
    return columns


def _row(columns: list[str], cells: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=False):
        if not column:
            continue
        if isinstance(cell, str):
            cell = clean(cell)
            if cell == "":
                cell = None
        elif isinstance(cell, datetime | date):
            cell = cell.isoformat()
        elif isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        elif isinstance(cell, Decimal):
            cell = str(cell)
        out[column] = cell
    return out


def _parse_xlsx(content: bytes, limits: LimitSettings) -> ParsedSheet:
    import openpyxl  # the import is slow; only sheets need it

    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except zipfile.BadZipFile:
        raise ValidationProblem("the file is not a valid XLSX workbook") from None
    total = sum(m.file_size for m in members)
    if total > limits.xlsx_max_uncompressed_bytes:
        raise PayloadTooLarge(
            f"the workbook expands to {total} bytes; the limit is {limits.xlsx_max_uncompressed_bytes}"
        )
    for m in members:
        if m.compress_size and m.file_size / m.compress_size > limits.xlsx_max_compression_ratio:
            raise PayloadTooLarge(
                f"the workbook member {m.filename!r} is compressed {m.file_size // m.compress_size}:1, "
                "which looks like a zip bomb; save the sheet again from Excel"
            )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise ValidationProblem(f"the XLSX workbook cannot be read: {type(exc).__name__}") from None
    try:
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        header = next(values, None)
        if header is None:
            raise ValidationProblem(
                "the first worksheet is empty",
                errors=[FieldIssue(row=1, field=None, message="no header row")],
            )
        columns = _check_header(list(header))
        rows: list[tuple[int, dict[str, Any]]] = []
        for row_no, cells in enumerate(values, start=2):
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            if len(rows) >= limits.max_rows_per_batch:
                raise PayloadTooLarge(
                    f"the sheet has more than {limits.max_rows_per_batch} rows; split it"
                )
            rows.append((row_no, _row(columns, list(cells))))
    finally:
        workbook.close()
    return ParsedSheet("xlsx", rows, columns)
