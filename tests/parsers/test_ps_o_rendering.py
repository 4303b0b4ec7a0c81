"""``ps -o`` listings rendered as procps and BSD ps print them, parsed back; fuzzed input."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from parsers.errors import ParseError
from parsers.ps_columns import COLUMN_SPECS, IGNORED_COLUMNS
from parsers.ps_ef import parse_ps_o
from tests.parsers.strategies import LINES, SNAPSHOT_TIMES

OBSERVED_AT = datetime(2021, 10, 26, 12, 0, tzinfo=UTC)


def _procps_line(pid: int, user: str, start: datetime, nice: int, comm: str, args: str) -> str:
    """A line as procps prints -o pid,user,lstart,ni,comm,args: fixed widths, cut user."""
    shown_user = user if len(user) <= 8 else user[:7] + "+"
    lstart = start.strftime("%a %b ") + f"{start.day:>2}" + start.strftime(" %H:%M:%S %Y")
    return f"{pid:>7} {shown_user:<8} {lstart:>24} {nice:>3} {comm:<15} {args}"


# Words as ps prints them: no blanks (ps shows other bytes of a command escaped or as "?").
_WORD = st.text(
    st.characters(min_codepoint=33, max_codepoint=0x2FF).filter(str.isprintable),
    min_size=1,
    max_size=12,
)
_PROCESSES = st.lists(
    st.tuples(
        st.integers(1, 4_194_304),
        st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=12),
        st.datetimes(datetime(1990, 1, 1), datetime(2021, 10, 26, 12)),
        st.integers(-20, 19),
        st.lists(_WORD, min_size=1, max_size=3).map(" ".join).map(lambda name: name[:15]),
        st.lists(_WORD, min_size=1, max_size=6).map(" ".join),
    ),
    max_size=12,
)


@given(processes=_PROCESSES)
def test_procps_rendering_round_trips(
    processes: list[tuple[int, str, datetime, int, str, str]],
) -> None:
    header = "    PID USER                      STARTED  NI COMMAND         COMMAND"
    lines = [_procps_line(*process) for process in processes]
    # A longest line of its own: lines of one common longest length would read as cut at
    # the terminal's width (parsers.width_cuts).
    longest = max(map(len, lines), default=0)
    processes = [*processes, (1, "root", datetime(2000, 1, 1), 0, "sh", "x" * (longest + 1))]
    lines.append(_procps_line(*processes[-1]))
    rows = parse_ps_o("\n".join([header, *lines]) + "\n", OBSERVED_AT)
    assert len(rows) == len(processes)
    for row, (pid, user, start, nice, comm, args) in zip(rows, processes, strict=True):
        assert (row.pid, row.nice) == (pid, nice)
        assert row.start_time == start.replace(tzinfo=UTC, microsecond=0)
        assert (row.process_name, row.command_line) == (comm.strip(), args)
        cut = len(user) > 8
        assert row.user == (user[:7] + "+" if cut else user)
        assert row.truncated_fields == (("user",) if cut or user.endswith("+") else ())


@given(
    processes=st.lists(
        st.tuples(
            st.integers(0, 99_999),
            st.integers(0, 4_294_967_294),
            st.lists(_WORD, min_size=1, max_size=3).map(lambda words: "/" + " ".join(words)),
            st.lists(_WORD, min_size=1, max_size=4).map(" ".join),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_bsd_rendering_round_trips(processes: list[tuple[int, int, str, str]]) -> None:
    # BSD ps sizes every column to its widest value: pid,uid,comm,args.
    pid_width = max(3, *(len(str(p[0])) for p in processes))
    uid_width = max(3, *(len(str(p[1])) for p in processes))
    comm_width = max(4, *(len(p[2]) for p in processes))
    lines = [f"{'PID':>{pid_width}} {'UID':>{uid_width}} {'COMM':<{comm_width}} ARGS"]
    lines += [
        f"{pid:>{pid_width}} {uid:>{uid_width}} {comm:<{comm_width}} {args}"
        for pid, uid, comm, args in processes
    ]
    rows = parse_ps_o("\n".join(lines), OBSERVED_AT)
    for row, (pid, uid, comm, args) in zip(rows, processes, strict=True):
        assert (row.pid, row.user, row.command_line) == (pid, str(uid), args)
        assert row.process_name == (comm.rstrip("/").rsplit("/", 1)[-1] or comm.rstrip())


# Columns no field takes, and values procps prints in them (no blanks).
_SKIPPED_VALUES = {
    "PGID": st.integers(0, 4_194_304).map(str),
    "SID": st.integers(0, 4_194_304).map(str),
    "PSR": st.integers(0, 63).map(str),
    "CLS": st.sampled_from(["TS", "FF", "RR", "B", "IDL", "DLN", "-"]),
    "TID": st.integers(1, 4_194_304).map(str),
    "SZ": st.integers(0, 10**9).map(str),
    "CGROUP": st.sampled_from(["-", "0::/init.scope", "4:memory:/process_api/8e50c"]),
    "WCHAN": st.sampled_from(["-", "do_epo", "hrtime", "poll_s"]),
    "F": st.sampled_from(["0", "1", "4", "5"]),
    "LABEL": st.sampled_from(["-", "unconfined", "system_u:system_r:init_t:s0"]),
    "TPGID": st.sampled_from(["-1", "4711"]),
}


@given(
    skipped=st.lists(st.sampled_from(sorted(_SKIPPED_VALUES)), unique=True, max_size=6),
    data=st.data(),
    processes=st.lists(
        st.tuples(
            st.integers(1, 4_194_304),
            st.sampled_from(["S", "Ss", "R+", "Z", "I<"]),
            st.integers(0, 99 * 3600),
            st.lists(_WORD, min_size=1, max_size=4).map(" ".join),
        ),
        max_size=8,
    ),
)
def test_columns_no_field_takes_change_no_row(
    skipped: list[str], data: st.DataObject, processes: list[tuple[int, str, int, str]]
) -> None:
    # ps -eo pid,<skipped...>,stat,time,args with the skipped columns in any order.
    header = " ".join(["PID", *skipped, "STAT", "TIME", "COMMAND"])
    lines = [header]
    for pid, stat, seconds, args in processes:
        shown = [data.draw(_SKIPPED_VALUES[name]) for name in skipped]
        time = f"{seconds // 3600:02}:{seconds // 60 % 60:02}:{seconds % 60:02}"
        lines.append(" ".join([str(pid), *shown, stat, time, args]))
    rows = parse_ps_o("\n".join(lines) + "\n", OBSERVED_AT)
    assert [(row.pid, row.status_raw, row.cpu_time_seconds, row.command_line) for row in rows] == [
        (pid, stat, float(seconds), args) for pid, stat, seconds, args in processes
    ]


# Any header of documented ps columns, PID and a command or name column among them.
PS_HEADERS = st.builds(
    lambda before, after, last: " ".join([*before, "PID", *after, last]),
    st.lists(st.sampled_from(sorted({*COLUMN_SPECS, *IGNORED_COLUMNS})), max_size=6),
    st.lists(st.sampled_from(sorted({*COLUMN_SPECS, *IGNORED_COLUMNS})), max_size=6),
    st.sampled_from(["COMMAND", "ARGS", "CMD", "COMM", "UCOMM", "EXE"]),
)


@given(header=PS_HEADERS, lines=st.lists(LINES, max_size=10), observed_at=SNAPSHOT_TIMES)
def test_any_ps_header_then_arbitrary_lines_parse_or_raise_parse_error(
    header: str, lines: list[str], observed_at: datetime
) -> None:
    try:
        rows = parse_ps_o("\n".join([header, *lines]), observed_at)
    except ParseError:
        return
    assert all(row.start_time is None or row.start_time <= observed_at for row in rows)


HEADERS = st.sampled_from(
    [
        "  PID  PPID USER                      STARTED     ELAPSED NLWP  NI PRI STAT   RSS    VSZ"
        " COMMAND         COMMAND",
        "  PID  PPID   UID   GID ARGS",
        "  PID COMMAND           PID COMMAND",
        "COMMAND           PID USER",
    ]
)


@given(header=HEADERS, lines=st.lists(LINES, max_size=10), observed_at=SNAPSHOT_TIMES)
def test_header_then_arbitrary_lines_parse_or_raise_parse_error(
    header: str, lines: list[str], observed_at: datetime
) -> None:
    try:
        rows = parse_ps_o("\n".join([header, *lines]), observed_at)
    except ParseError:
        return
    assert all(row.start_time is None or row.start_time <= observed_at for row in rows)


@given(raw=st.text(max_size=3000), observed_at=SNAPSHOT_TIMES)
def test_arbitrary_text_parses_or_raises_parse_error(raw: str, observed_at: datetime) -> None:
    try:
        parse_ps_o(raw, observed_at)
    except ParseError:
        return
