"""tasklist tables, CSV and lists: fixtures read by hand, and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parsers import parse_listing
from parsers.errors import ParseError
from parsers.rows import ProcessRow, ProcessStatus
from parsers.tasklist import is_tasklist_header, parse_tasklist
from parsers.tasklist_records import (
    is_tasklist_csv_header,
    is_tasklist_list_line,
    parse_tasklist_csv,
    parse_tasklist_list,
)
from tests.parsers.fixtures import read_fixture

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KIB = 1024
_HEADER = "Image Name                     PID Session Name        Session#    Mem Usage\n"
_RULER = "========================= ======== ================ =========== ============\n"


def _listing(name: str) -> tuple[str, list[ProcessRow]]:
    listing = parse_listing(
        read_fixture(f"windows/{name}"), os_type="windows", command="tasklist", observed_at=AT
    )
    return listing.format, listing.rows


def test_en_us_default_refuses_the_authors_elision_line() -> None:
    with pytest.raises(ParseError) as caught:
        parse_tasklist(read_fixture("windows/win10-en-US-tasklist-default-elided.out"), AT)
    assert caught.value.line_number == 13
    assert caught.value.line == "    ."


def test_en_us_default_without_the_elision() -> None:
    raw = read_fixture("windows/win10-en-US-tasklist-default-elided.out")
    kept = "\n".join(line for line in raw.split("\n") if line.strip() != ".")
    rows = parse_tasklist(kept, AT)
    assert len(rows) == 14
    assert rows[0] == ProcessRow(
        line_number=3,
        pid=0,
        process_name="System Idle Process",
        rss_bytes=8 * KIB,
        memory_usage_bytes=8 * KIB,
    )
    assert rows[2] == ProcessRow(
        line_number=5,
        pid=120,
        process_name="Registry",
        rss_bytes=85_324 * KIB,
        memory_usage_bytes=85_324 * KIB,
    )
    assert rows[-1] == ProcessRow(
        line_number=16,
        pid=15488,
        process_name="tasklist.exe",
        rss_bytes=10_096 * KIB,
        memory_usage_bytes=10_096 * KIB,
    )


def test_fr_fr_default() -> None:
    name, rows = _listing("win10-fr-FR-tasklist-default.out")
    assert name == "tasklist"
    assert len(rows) == 34
    assert rows[1] == ProcessRow(
        line_number=4,
        pid=4,
        process_name="System",
        rss_bytes=1_836 * KIB,
        memory_usage_bytes=1_836 * KIB,
    )
    assert rows[13] == ProcessRow(
        line_number=16,
        pid=2304,
        process_name="Memory Compression",
        rss_bytes=602_988 * KIB,
        memory_usage_bytes=602_988 * KIB,
    )
    assert rows[16] == ProcessRow(
        line_number=19,
        pid=3552,
        process_name="OneApp.IGCC.WinService.ex",
        rss_bytes=20_960 * KIB,
        memory_usage_bytes=20_960 * KIB,
        truncated_fields=("process_name",),
    )
    assert rows[23].process_name == "SmartByteNetworkService.e"
    assert rows[23].truncated_fields == ("process_name",)
    assert [row for row in rows if row.truncated_fields] == [rows[16], rows[23]]


def test_ru_and_en_list_records() -> None:
    name, rows = _listing("tasklist-fo-list-v-ru-RU-and-en-US.out")
    assert name == "tasklist list"
    assert len(rows) == 5
    assert rows[0] == ProcessRow(
        line_number=1,
        pid=1188,
        process_name="tasklist.exe",
        user="VIRTUALPC\\вася",
        rss_bytes=3_464 * KIB,
        memory_usage_bytes=3_464 * KIB,
        status=ProcessStatus.RUNNING,
        status_raw="Работает",
        cpu_time_seconds=0.0,
    )
    assert rows[2] == ProcessRow(
        line_number=21,
        pid=4,
        process_name="System",
        user="NT AUTHORITY\\SYSTEM",
        rss_bytes=212 * KIB,
        memory_usage_bytes=212 * KIB,
        status=ProcessStatus.RUNNING,
        status_raw="Работает",
        cpu_time_seconds=36.0,
    )
    assert rows[4] == ProcessRow(
        line_number=41,
        pid=5555,
        process_name="mytask.exe",
        user="NT AUTHORITY\\SYSTEM",
        rss_bytes=2_856 * KIB,
        memory_usage_bytes=2_856 * KIB,
        status=ProcessStatus.UNKNOWN,
        status_raw="Unknown",
        cpu_time_seconds=0.0,
    )


def test_en_us_verbose_table() -> None:
    name, rows = _listing("win10-en-US-tasklist-v-handmade.out")
    assert name == "tasklist"
    assert len(rows) == 7
    assert rows[0] == ProcessRow(
        line_number=4,
        pid=0,
        process_name="System Idle Process",
        user="NT AUTHORITY\\SYSTEM",
        rss_bytes=8 * KIB,
        memory_usage_bytes=8 * KIB,
        status=ProcessStatus.UNKNOWN,
        status_raw="Unknown",
        cpu_time_seconds=123 * 3600 + 45 * 60 + 6.0,
    )
    assert rows[1].user is None
    assert rows[2].process_name == "SecurityHealthService.exe"
    assert rows[2].truncated_fields == ()
    assert rows[4].truncated_fields == ("process_name",)
    assert rows[5] == ProcessRow(
        line_number=9,
        pid=7712,
        process_name="notepad.exe",
        user="DESKTOP-7KQ2M1\\ann",
        rss_bytes=14_096 * KIB,
        memory_usage_bytes=14_096 * KIB,
        status=ProcessStatus.UNKNOWN,
        status_raw="Not Responding",
        cpu_time_seconds=2.0,
    )
    assert rows[6].memory_usage_bytes == 1_203_560 * KIB
    assert rows[6].cpu_time_seconds == 3723.0


def test_de_de_verbose_table() -> None:
    _, rows = _listing("win10-de-DE-tasklist-v-handmade.out")
    assert len(rows) == 4
    assert rows[0] == ProcessRow(
        line_number=4,
        pid=0,
        process_name="System Idle Process",
        user="NT-AUTORITÄT\\SYSTEM",
        rss_bytes=8 * KIB,
        memory_usage_bytes=8 * KIB,
        status=ProcessStatus.UNKNOWN,
        status_raw="Unbekannt",
        cpu_time_seconds=52 * 3600 + 11 * 60 + 9.0,
    )
    assert rows[2].status is ProcessStatus.RUNNING
    assert rows[2].status_raw == "Wird ausgeführt"
    assert rows[3] == ProcessRow(
        line_number=7,
        pid=6120,
        process_name="WINWORD.EXE",
        user="ARBEITSPLATZ\\jürgen",
        rss_bytes=1_048_576 * KIB,
        memory_usage_bytes=1_048_576 * KIB,
        status=ProcessStatus.UNKNOWN,
        status_raw="Keine Rückmeldu",
        cpu_time_seconds=600.0,
        truncated_fields=("status_raw",),
    )


def test_es_es_default_table() -> None:
    _, rows = _listing("win10-es-ES-tasklist-handmade.out")
    assert len(rows) == 4
    assert rows[1] == ProcessRow(
        line_number=5,
        pid=120,
        process_name="Registry",
        rss_bytes=85_324 * KIB,
        memory_usage_bytes=85_324 * KIB,
    )
    assert rows[2] == ProcessRow(
        line_number=6,
        pid=2332,
        process_name="MicrosoftEdgeUpdateCore.e",
        rss_bytes=1_236 * KIB,
        memory_usage_bytes=1_236 * KIB,
        truncated_fields=("process_name",),
    )


def test_en_us_verbose_csv() -> None:
    name, rows = _listing("win10-en-US-tasklist-v-fo-csv-handmade.out")
    assert name == "tasklist csv"
    assert len(rows) == 4
    assert rows[1] == ProcessRow(
        line_number=4,
        pid=3552,
        process_name="OneApp.IGCC.WinService.exe",
        user="NT AUTHORITY\\SYSTEM",
        rss_bytes=20_960 * KIB,
        memory_usage_bytes=20_960 * KIB,
        status=ProcessStatus.UNKNOWN,
        status_raw="Unknown",
        cpu_time_seconds=1.0,
    )
    assert rows[2] == ProcessRow(
        line_number=5,
        pid=9964,
        process_name="chrome.exe",
        user="DESKTOP-7KQ2M1\\ann",
        rss_bytes=213_772 * KIB,
        memory_usage_bytes=213_772 * KIB,
        status=ProcessStatus.RUNNING,
        status_raw="Running",
        cpu_time_seconds=190.0,
    )
    assert rows[3].user is None


def test_headers_detected_in_each_language() -> None:
    assert is_tasklist_header(_HEADER)
    assert not is_tasklist_header("Image Name                     PID Session Name        Session#")
    assert is_tasklist_header(
        "Имя образа                     PID Имя сессии          № сеанса       Память"
    )
    assert is_tasklist_header(
        "Nom de l'image                 PID Nom de la sessio Numéro de s Utilisation"
    )
    assert is_tasklist_csv_header('"Abbildname","PID","Sitzungsname","Sitz.-Nr.","Speichernutzung"')
    assert not is_tasklist_csv_header('"Abbildname","PID"')
    assert is_tasklist_list_line("Nombre de imagen: chrome.exe")
    assert not is_tasklist_list_line("PID: 4")


def test_default_list_and_csv() -> None:
    text = "\nImage Name:   System\nPID:          4\nSession Name: Services\nSession#:     0\n"
    text += "Mem Usage:    1,444 K\n"
    assert parse_tasklist_list(text, AT) == [
        ProcessRow(
            line_number=2,
            pid=4,
            process_name="System",
            rss_bytes=1_444 * KIB,
            memory_usage_bytes=1_444 * KIB,
        )
    ]
    csv_text = '"Image Name","PID","Session Name","Session#","Mem Usage"\n'
    csv_text += '"System","4","Services","0","1,444 K"\n'
    assert parse_tasklist_csv(csv_text, AT)[0].memory_usage_bytes == 1_444 * KIB
