"""Generated Windows processes, printed the way PowerShell and wmic print them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

__all__ = [
    "GET_PROCESS_VIEWS",
    "PROCESSES",
    "Culture",
    "GetProcessView",
    "Process",
    "cim_datetime_text",
    "en_us_datetime",
    "get_process_csv",
    "get_process_table",
    "wmic_list",
    "wmic_table",
]


@dataclass(frozen=True)
class Process:
    """What a generated process is, in the units Windows keeps."""

    pid: int
    ppid: int
    name: str
    user: str | None
    command_line: str | None
    handles: int
    working_set: int
    virtual: int
    private: int
    nonpaged: int
    cpu_ticks: int | None
    kernel_ticks: int
    threads: int
    priority: int
    session: int
    created: datetime | None


_NAME_CHARS = st.characters(
    whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters="_-", max_codepoint=0x17F
)
_NAMES = st.builds(
    lambda first, rest: first + rest,
    st.text(_NAME_CHARS, min_size=1, max_size=12),
    st.text(st.sampled_from("abc _-.1"), max_size=14)
    .map(str.rstrip)
    .filter(lambda text: not text.endswith(".")),
)
_USERS = st.none() | st.builds(
    lambda domain, user: f"{domain}\\{user}",
    st.sampled_from(["NT AUTHORITY", "DOMAIN01", "DESKTOP-7KQ2M1", "WORKGROUP-LONG-NAME"]),
    st.sampled_from(["SYSTEM", "LOCAL SERVICE", "NETWORK SERVICE", "ann", "user01.admin"]),
)
_COMMANDS = st.none() | st.text(st.sampled_from('abc C:\\/"-.,=é'), min_size=1, max_size=40).map(
    str.strip
).filter(bool)
_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])
_CREATED = st.none() | st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31)),
    _ZONES,
)
PROCESSES = st.builds(
    Process,
    pid=st.integers(0, 249_999).map(lambda n: n * 4),
    ppid=st.integers(0, 2**32 - 1),
    name=_NAMES,
    user=_USERS,
    command_line=_COMMANDS,
    handles=st.integers(0, 10**6),
    working_set=st.integers(0, 2**40),
    virtual=st.integers(0, 2**47),
    private=st.integers(0, 2**40),
    nonpaged=st.integers(0, 2**32),
    cpu_ticks=st.none() | st.integers(0, 10**13),
    kernel_ticks=st.integers(0, 10**13),
    threads=st.integers(0, 5000),
    priority=st.integers(0, 31),
    session=st.integers(0, 99),
    created=_CREATED,
)


@dataclass(frozen=True)
class Culture:
    """How a culture writes numbers: group separator, decimal separator."""

    group: str
    point: str


CULTURES = (Culture(",", "."), Culture(".", ","), Culture("\u202f", ","), Culture("'", "."))


@dataclass(frozen=True)
class GetProcessView:
    """A Get-Process table view: (label, width) of each column, and its ellipsis."""

    columns: tuple[tuple[str, int], ...]
    ellipsis: str


GET_PROCESS_VIEWS = (
    # Windows PowerShell 2-4, and 5.0 with SI.
    GetProcessView(
        (("Handles", 7), ("NPM(K)", 7), ("PM(K)", 8), ("WS(K)", 10), ("VM(M)", 5)),
        "...",
    ),
    GetProcessView((("Handles", 7), ("NPM(K)", 7), ("PM(K)", 8), ("WS(K)", 10)), "..."),
    GetProcessView((("Handles", 7), ("WS(K)", 10)), "..."),
    GetProcessView((("NPM(K)", 7), ("PM(M)", 8), ("WS(M)", 10)), "…"),
)
# What follows the memory columns, by view: CPU(s) width, Id width, SI, UserName width.
_TAILS = ((8, 6, False, None), (10, 6, True, None), (8, 6, False, 19), (10, 7, True, None))


def _n2(value: float, culture: Culture) -> str:
    """.NET's "N2": grouped thousands, two decimals, in the culture's separators."""
    text = f"{value:,.2f}"
    return text.replace(",", "\0").replace(".", culture.point).replace("\0", culture.group)


def _fit(text: str, width: int, ellipsis: str, *, right: bool) -> str:
    """A cell as Format-Table writes it: padded, or cut with the ellipsis when too wide."""
    if len(text) > width:
        keep = width - len(ellipsis)
        text = ellipsis + text[-keep:] if right else text[:keep] + ellipsis
    return text.rjust(width) if right else text.ljust(width)


def _memory(label: str, process: Process, culture: Culture) -> str:
    """A memory cell: KiB rounded half to even as [long] does, or MiB with two decimals."""
    value = {"NPM": process.nonpaged, "PM": process.private, "WS": process.working_set}.get(
        label.split("(")[0], process.virtual
    )
    if label.endswith("(K)"):
        return str(round(value / 1024))
    if label == "VM(M)":
        return str(round(value / 1024**2))
    return _n2(value / 1024**2, culture)


def get_process_table(
    processes: list[Process], view_index: int, culture: Culture
) -> tuple[str, list[str]]:
    """The table of ``view_index``'s view, and the cells each row was cut in (their labels)."""
    view = GET_PROCESS_VIEWS[view_index]
    cpu_width, id_width, session, user_width = _TAILS[view_index]
    columns = [*view.columns, ("CPU(s)", cpu_width), ("Id", id_width)]
    if session:
        columns.append(("SI", 3))
    header = " ".join(label.rjust(width) for label, width in columns)
    ruler = " ".join(("-" * len(label)).rjust(width) for label, width in columns)
    if user_width is not None:
        header += " " + "UserName".ljust(user_width)
        ruler += " " + "--------".ljust(user_width)
    lines = ["", header + " ProcessName", ruler + " -----------"]
    cut: list[str] = []
    for process in processes:
        cells = []
        for label, width in columns:
            if label == "Handles":
                text = str(process.handles)
            elif label == "CPU(s)":
                text = "" if process.cpu_ticks is None else _n2(process.cpu_ticks / 1e7, culture)
            elif label == "Id":
                text = str(process.pid)
            elif label == "SI":
                text = str(process.session)
            else:
                text = _memory(label, process, culture)
            if len(text) > width:
                cut.append(label)
            cells.append(_fit(text, width, view.ellipsis, right=True))
        line = " ".join(cells)
        if user_width is not None:
            user = process.user or ""
            if len(user) > user_width:
                cut.append("UserName")
            line += " " + _fit(user, user_width, view.ellipsis, right=False)
        lines.append(f"{line} {process.name}")
    return "\r\n".join([*lines, "", ""]), cut


def cim_datetime_text(moment: datetime) -> str:
    """A moment as a CIM datetime: local time, then its offset from UTC in minutes."""
    offset = moment.utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return moment.strftime("%Y%m%d%H%M%S.%f") + f"{sign}{abs(minutes):03d}"


def _wmic_values(process: Process) -> dict[str, str]:
    """The Win32_Process properties wmic is asked for, as it prints them."""
    return {
        "CommandLine": process.command_line or "",
        "CreationDate": "" if process.created is None else cim_datetime_text(process.created),
        "KernelModeTime": str(process.kernel_ticks),
        "Name": process.name + ".exe",
        "ParentProcessId": str(process.ppid),
        "Priority": str(process.priority),
        "ProcessId": str(process.pid),
        "ThreadCount": str(process.threads),
        "UserModeTime": str(process.cpu_ticks or 0),
        "VirtualSize": str(process.virtual),
        "WorkingSetSize": str(process.working_set),
    }


def wmic_table(processes: list[Process]) -> str:
    """``wmic process get ...``: columns by name, each its widest value plus two spaces."""
    rows = [_wmic_values(process) for process in processes]
    names = sorted(_wmic_values(processes[0])) if processes else ["Name", "ProcessId"]
    widths = {name: max([len(name), *(len(row[name]) for row in rows)]) + 2 for name in names}
    lines = ["".join(name.ljust(widths[name]) for name in names)]
    lines += ["".join(row[name].ljust(widths[name]) for name in names) for row in rows]
    return "".join(line + "\r\r\n" for line in [*lines, ""])


def wmic_list(processes: list[Process]) -> str:
    """``wmic process get ... /format:list``: ``Name=value`` records between blank lines."""
    out = ["", ""]
    for process in processes:
        out += [f"{name}={value}" for name, value in sorted(_wmic_values(process).items())]
        out += ["", ""]
    return "".join(line + "\r\r\n" for line in out)


def en_us_datetime(moment: datetime) -> str:
    """A DateTime as en-US prints it: ``M/d/yyyy h:mm:ss tt``."""
    hour = moment.hour % 12 or 12
    meridiem = "AM" if moment.hour < 12 else "PM"
    clock = f"{hour}:{moment.minute:02d}:{moment.second:02d} {meridiem}"
    return f"{moment.month}/{moment.day}/{moment.year} {clock}"


def get_process_csv(processes: list[Process], *, type_line: bool) -> str:
    """``Get-Process | ConvertTo-Csv``: the main columns, every value quoted, nulls empty."""
    buffer = io.StringIO()
    if type_line:
        buffer.write("#TYPE System.Diagnostics.Process\r\n")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    columns = ["Name", "Id", "UserName", "WS", "VM", "CPU", "Path", "CommandLine", "StartTime"]
    columns += ["Threads", "TotalProcessorTime", "WorkingSet64", "VirtualMemorySize64"]
    writer.writerow(columns)
    for process in processes:
        seconds = None if process.cpu_ticks is None else process.cpu_ticks / 1e7
        timespan = None
        if process.cpu_ticks is not None:
            whole, ticks = divmod(process.cpu_ticks, 10**7)
            days, rest = divmod(whole, 86400)
            clock = f"{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}.{ticks:07d}"
            timespan = f"{days}.{clock}" if days else clock
        start = None if process.created is None else en_us_datetime(process.created)
        values = [process.name, process.pid, process.user, process.working_set, process.virtual]
        values += [None if seconds is None else repr(seconds), None, process.command_line, start]
        values += ["System.Diagnostics.ProcessThreadCollection", timespan]
        values += [process.working_set, process.virtual]
        writer.writerow(["\0" if value is None else value for value in values])
    # csv quotes every field; PowerShell leaves nulls unquoted and empty.
    return buffer.getvalue().replace('"\0"', "")
