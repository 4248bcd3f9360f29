from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import date

import openpyxl
import pytest

from odop_sync.batches.intake import ParsedSheet, _collect, parse_sheet
from odop_sync.config import LimitSettings
from odop_sync.kit.problems import PayloadTooLarge, UnsupportedMediaType, ValidationProblem

LIMITS = LimitSettings()
CHIKAN_HI = "लखनवी चिकनकारी कुर्ता"
# Curly quotes and the en dash exist in cp1252 (bytes 0x91, 0x92, 0x96) but not in Latin-1.
CP1252_TEXT = "Caf\u00e9 \u2018quote\u2019 \u2013 dash"


def csv_sheet(content: bytes, filename: str = "items.csv", **limits: int) -> ParsedSheet:
    return parse_sheet(
        content, filename=filename, content_type="text/csv", limits=LimitSettings(**limits)
    )


def xlsx_bytes(rows: list[list[object]], *, extra_sheet: bool = False) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet("notes").append(["sku", "not an item"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rezip(content: bytes, extra: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        for name, data in extra.items():
            target.writestr(name, data)
    return out.getvalue()


class TestCsvIntake:
    def test_an_excel_windows_1252_csv_keeps_its_curly_quotes_and_dashes(self) -> None:
        content = f"sku,title_en\r\nCHK-1,{CP1252_TEXT}\r\n".encode("cp1252")
        with pytest.raises(UnicodeDecodeError):
            content.decode("utf-8")
        sheet = parse_sheet(content, filename="items.csv", content_type=None, limits=LIMITS)
        assert sheet.source == "csv"
        assert sheet.rows == [(2, {"sku": "CHK-1", "title_en": CP1252_TEXT})]

    def test_excel_unicode_text_utf16_with_bom_and_tabs_keeps_hindi(self) -> None:
        content = f"SKU\tTitle EN\tTitle HI\r\nCHK-1\tChikankari kurta\t{CHIKAN_HI}\r\n".encode(
            "utf-16"
        )
        assert content[:2] in (b"\xff\xfe", b"\xfe\xff")
        sheet = parse_sheet(content, filename="items.txt", content_type=None, limits=LIMITS)
        assert sheet.columns == ["sku", "title_en", "title_hi"]
        assert sheet.rows[0][1]["title_hi"] == CHIKAN_HI

    def test_utf16_big_endian_with_bom_is_read(self) -> None:
        content = f"sku\ttitle_hi\nA-1\t{CHIKAN_HI}\n".encode("utf-16-be")
        sheet = csv_sheet(b"\xfe\xff" + content)
        assert sheet.rows == [(2, {"sku": "A-1", "title_hi": CHIKAN_HI})]

    def test_utf16_without_a_bom_is_recognised_by_its_nul_bytes(self) -> None:
        content = "sku,title_en\nA-1,Durrie\n".encode("utf-16-le")
        sheet = csv_sheet(content)
        assert sheet.rows == [(2, {"sku": "A-1", "title_en": "Durrie"})]

    def test_utf8_with_bom_and_semicolons_names_the_first_column_cleanly(self) -> None:
        content = f"\ufeffSKU;Title EN;Title-HI;MRP\nCHK-1;Kurta;{CHIKAN_HI};1.250,00\n".encode()
        sheet = csv_sheet(content)
        assert sheet.columns == ["sku", "title_en", "title_hi", "mrp"]
        assert sheet.rows[0][1]["sku"] == "CHK-1"
        assert sheet.rows[0][1]["title_hi"] == CHIKAN_HI

    def test_utf8_without_bom_keeps_hindi(self) -> None:
        sheet = csv_sheet(f"sku,title_hi\nA-1,{CHIKAN_HI}\n".encode())
        assert sheet.rows[0][1]["title_hi"] == CHIKAN_HI

    def test_a_quoted_cell_with_line_breaks_stays_one_row_and_numbering_follows_the_sheet(
        self,
    ) -> None:
        content = b'sku,description_en\nA-1,"Hand embroidered.\nWash gently."\nA-2,Plain\n'
        sheet = csv_sheet(content)
        assert sheet.rows == [
            (2, {"sku": "A-1", "description_en": "Hand embroidered.\nWash gently."}),
            (3, {"sku": "A-2", "description_en": "Plain"}),
        ]

    def test_empty_rows_are_skipped_but_still_counted(self) -> None:
        sheet = csv_sheet(b"sku,title_en\n\nA-1,Rug\n,\n  ,  \nA-2,Mat\n")
        assert [n for n, _ in sheet.rows] == [3, 6]

    def test_values_are_stripped_nfc_and_empty_cells_are_none(self) -> None:
        decomposed = unicodedata.normalize("NFD", "Café")
        sheet = csv_sheet(f"sku,title_en,color\n  A-1  ,{decomposed} , \n".encode())
        assert sheet.rows == [
            (2, {"sku": "A-1", "title_en": unicodedata.normalize("NFC", "Café"), "color": None})
        ]

    def test_a_sheet_without_a_sku_column_names_the_missing_column_on_row_1(self) -> None:
        with pytest.raises(ValidationProblem) as caught:
            csv_sheet(b"title_en,price\nRug,100\n")
        assert caught.value.errors is not None
        assert [(e.row, e.field) for e in caught.value.errors] == [(1, "sku")]

    def test_an_empty_file_is_refused_as_having_no_header(self) -> None:
        with pytest.raises(ValidationProblem) as caught:
            csv_sheet(b"")
        assert caught.value.errors is not None
        assert caught.value.errors[0].row == 1

    def test_more_rows_than_the_limit_are_refused_naming_the_limit(self) -> None:
        with pytest.raises(PayloadTooLarge, match="more than 2 rows"):
            csv_sheet(b"sku\nA\nB\nC\n", max_rows_per_batch=2)

    def test_exactly_the_row_limit_is_accepted(self) -> None:
        sheet = csv_sheet(b"sku\nA\nB\n", max_rows_per_batch=2)
        assert len(sheet.rows) == 2

    def test_blank_rows_count_against_the_limit(self) -> None:
        with pytest.raises(PayloadTooLarge, match="empty rows count too"):
            csv_sheet(b"sku\nA\n\n\nB\n", max_rows_per_batch=3)

    def test_blank_rows_within_the_limit_are_skipped_and_numbered(self) -> None:
        sheet = csv_sheet(b"sku\nA\n\nB\n", max_rows_per_batch=3)
        assert [n for n, _ in sheet.rows] == [2, 4]

    def test_reading_stops_at_the_row_limit(self) -> None:
        """However many blank rows a sheet claims, no row past the limit is read."""
        read: list[int] = []

        def endless_blank_rows() -> Iterator[tuple[str | None, ...]]:
            yield ("sku",)
            while True:
                read.append(1)
                assert len(read) <= 1_000, "read past the row limit"
                yield (None, None)

        with pytest.raises(PayloadTooLarge, match="more than 100 rows"):
            _collect(endless_blank_rows(), LimitSettings(max_rows_per_batch=100))
        assert len(read) == 101


class TestXlsxIntake:
    def test_a_workbook_with_hindi_titles_and_numbers_parses_intact(self) -> None:
        content = xlsx_bytes(
            [
                ["SKU", "Title EN", "Title HI", "Price", "Stock", "HSN Code", "Made On", "Color"],
                ["CHK-1", "Chikankari kurta", CHIKAN_HI, 1250.5, 12, 62114290, date(2025, 1, 9)],
                ["CHK-2", "Chikankari dupatta", CHIKAN_HI, 990, 3.0, "09109100", None, " "],
            ]
        )
        sheet = parse_sheet(content, filename="items.xlsx", content_type=None, limits=LIMITS)
        assert sheet.source == "xlsx"
        assert sheet.columns[:3] == ["sku", "title_en", "title_hi"]
        (n1, first), (n2, second) = sheet.rows
        assert (n1, n2) == (2, 3)
        assert first["title_hi"] == CHIKAN_HI
        assert first["price"] == 1250.5
        assert first["stock"] == 12
        assert first["hsn_code"] == 62114290
        assert first["made_on"].startswith("2025-01-09")
        assert second["stock"] == 3
        assert second["hsn_code"] == "09109100"
        assert second["made_on"] is None
        assert second["color"] is None

    def test_only_the_first_worksheet_holds_the_items(self) -> None:
        content = xlsx_bytes([["sku"], ["A-1"]], extra_sheet=True)
        sheet = parse_sheet(content, filename="items.xlsx", content_type=None, limits=LIMITS)
        assert sheet.rows == [(2, {"sku": "A-1"})]

    def test_a_workbook_is_recognised_by_its_bytes_whatever_its_name(self) -> None:
        content = xlsx_bytes([["sku"], ["A-1"]])
        sheet = parse_sheet(
            content, filename=None, content_type="application/octet-stream", limits=LIMITS
        )
        assert sheet.source == "xlsx"

    def test_a_zip_bomb_is_refused_before_it_is_opened(self) -> None:
        bomb = rezip(xlsx_bytes([["sku"], ["A-1"]]), {"xl/media/image1.bin": bytes(5_000_000)})
        assert len(bomb) < 100_000
        with pytest.raises(PayloadTooLarge, match="zip bomb"):
            parse_sheet(bomb, filename="items.xlsx", content_type=None, limits=LIMITS)

    def test_a_workbook_expanding_beyond_the_limit_is_refused(self) -> None:
        content = xlsx_bytes([["sku"], ["A-1"]])
        with pytest.raises(PayloadTooLarge, match="xlsx_max_uncompressed_bytes"):
            parse_sheet(
                content,
                filename="items.xlsx",
                content_type=None,
                limits=LimitSettings(xlsx_max_uncompressed_bytes=1_000),
            )

    def test_more_rows_than_the_limit_are_refused(self) -> None:
        content = xlsx_bytes([["sku"], ["A"], ["B"], ["C"]])
        with pytest.raises(PayloadTooLarge, match="max_rows_per_batch"):
            parse_sheet(
                content,
                filename="items.xlsx",
                content_type=None,
                limits=LimitSettings(max_rows_per_batch=2),
            )

    def test_a_truncated_workbook_is_refused_as_invalid(self) -> None:
        content = xlsx_bytes([["sku"], ["A-1"]])
        with pytest.raises(ValidationProblem, match="not a valid XLSX"):
            parse_sheet(content[:200], filename="items.xlsx", content_type=None, limits=LIMITS)

    def test_a_zip_that_is_not_a_workbook_is_refused_as_invalid(self) -> None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("readme.txt", "hello")
        with pytest.raises(ValidationProblem, match="not an Excel workbook"):
            parse_sheet(out.getvalue(), filename="items.xlsx", content_type=None, limits=LIMITS)

    def test_a_text_file_named_xlsx_is_refused_as_invalid(self) -> None:
        with pytest.raises(ValidationProblem, match="not a valid Excel workbook"):
            parse_sheet(b"sku\nA-1\n", filename="items.xlsx", content_type=None, limits=LIMITS)

    def test_a_workbook_without_a_sku_column_names_it(self) -> None:
        with pytest.raises(ValidationProblem) as caught:
            parse_sheet(
                xlsx_bytes([["title_en"], ["Rug"]]),
                filename="items.xlsx",
                content_type=None,
                limits=LIMITS,
            )
        assert caught.value.errors is not None
        assert [(e.row, e.field) for e in caught.value.errors] == [(1, "sku")]


class TestFormatDetection:
    def test_an_old_xls_file_is_refused_with_the_way_out(self) -> None:
        ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
        with pytest.raises(UnsupportedMediaType) as caught:
            parse_sheet(ole, filename="items.xls", content_type=None, limits=LIMITS)
        assert ".xlsx" in caught.value.detail
        assert "CSV" in caught.value.detail
        assert caught.value.status == 415

    def test_a_file_named_xls_is_refused_even_when_its_bytes_are_text(self) -> None:
        with pytest.raises(UnsupportedMediaType, match="xlsx"):
            parse_sheet(b"<html><table>", filename="Items.XLS", content_type=None, limits=LIMITS)

    @pytest.mark.parametrize(
        ("content", "content_type"),
        [
            (b"%PDF-1.7 ...", None),
            (b"\x89PNG\r\n\x1a\n....", None),
            (b"sku\nA-1\n", "image/png"),
            (b"<!DOCTYPE html><html>", "text/html"),
            (b"\x00\x01\x02\x03\xff\x00\x10", None),
        ],
    )
    def test_files_that_are_not_sheets_are_refused_as_unsupported(
        self, content: bytes, content_type: str | None
    ) -> None:
        with pytest.raises(UnsupportedMediaType, match="xlsx"):
            parse_sheet(content, filename="upload", content_type=content_type, limits=LIMITS)

    def test_a_csv_sent_as_vnd_ms_excel_by_a_windows_browser_is_read(self) -> None:
        sheet = parse_sheet(
            b"sku\nA-1\n",
            filename="items.csv",
            content_type="application/vnd.ms-excel",
            limits=LIMITS,
        )
        assert sheet.rows == [(2, {"sku": "A-1"})]
