"""Which listing commands a collector runs: each OS's default, or those its settings name.

A command is written as an operator types it (``ps -ww -eo pid,args``) and split into words
as a POSIX shell would (no shell runs it): they are the argv the collector runs, and joined
by spaces the envelope's ``command_type``. A command the parsers do not document for the OS
is refused at start-up, and so is one whose first listing they cannot read (``ps -eo
pid,rss`` has no command column), rather than sent every tick to be dead-lettered.
"""

from __future__ import annotations

import shlex

from parsers.detect import SUPPORTED_FORMATS
from procmon.envelope import Envelope
from procmon.errors import ConfigurationError
from procmon.readable import parse_problem
from procmon.settings import Settings

__all__ = [
    "COMMAND_SEPARATOR",
    "DEFAULT_COMMANDS",
    "check_readable",
    "default_argv",
    "listing_commands",
]

COMMAND_SEPARATOR = ";"

# Why each one: README, "Faithful defaults per OS". lstart prints English names of days and
# months in the C time locale only, which collector.collect_listing gives every command.
_LINUX_PS = "ps -ww -eo pid,ppid,user:32,lstart,time,stat,nlwp,ni,pri,rss,vsz,%cpu,%mem,tty,args"
DEFAULT_COMMANDS: dict[str, str] = {
    "linux": _LINUX_PS,
    "macos": "ps axu",
    "freebsd": "ps axu",
    "openbsd": "ps axu",
    "netbsd": "ps axu",
    "windows": "powershell -NoProfile -NonInteractive -Command Get-WmiObject -Class Win32_Process",
}

# Windows' shells take the script as the words after -Command; the script is the command.
_SHELLS = frozenset({"powershell", "powershell.exe", "pwsh", "pwsh.exe"})


def _argv(command: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(command))
    except ValueError as exc:
        raise ConfigurationError(f"PROCMON_COLLECT_COMMANDS: {command!r}: {exc}") from exc


def _script(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The words that name the listing: a PowerShell script's, else the whole argv."""
    if argv and argv[0].lower() in _SHELLS:
        flags = [word.lower() for word in argv]
        if "-command" in flags:
            return argv[flags.index("-command") + 1 :]
    return argv


def _documented_commands(os_type: str) -> list[str]:
    """The commands the parser registry's formats say they read on ``os_type``."""
    return sorted(
        {
            command
            for listing_format in SUPPORTED_FORMATS
            if os_type in listing_format.os_types
            for command in listing_format.commands
        }
    )


def _documented(argv: tuple[str, ...], known: list[str]) -> bool:
    """Whether ``argv`` (its script, for PowerShell) begins with the words of a known command."""
    words = [word.lower() for word in _script(argv)]
    return any(words[: len(command.split())] == command.lower().split() for command in known)


def default_argv(os_type: str) -> tuple[str, ...]:
    """The argv of ``os_type``'s default listing command; ConfigurationError if none is known."""
    command = DEFAULT_COMMANDS.get(os_type)
    if command is None:
        raise ConfigurationError(f"no listing command is known for {os_type!r} yet")
    return _argv(command)


def listing_commands(settings: Settings, os_type: str) -> tuple[tuple[str, ...], ...]:
    """The argv of each command to run per tick on ``os_type``, in the order written.

    ``settings.collect_commands`` names them, separated by ``;``; unset or blank, the OS's
    default. ConfigurationError for a command no parser documents for ``os_type`` (naming
    the commands that are), or a setting that names none.
    """
    written = settings.collect_commands
    if written is None or not written.strip():
        return (default_argv(os_type),)
    commands = tuple(
        _argv(command) for command in written.split(COMMAND_SEPARATOR) if command.strip()
    )
    if not commands:
        raise ConfigurationError("PROCMON_COLLECT_COMMANDS names no command")
    known = _documented_commands(os_type)
    for argv in commands:
        if not _documented(argv, known):
            raise ConfigurationError(
                f"PROCMON_COLLECT_COMMANDS: {' '.join(argv)!r} is no listing the parsers read "
                f"on {os_type}; they read commands beginning {', '.join(known)}"
            )
    return commands


def check_readable(envelope: Envelope) -> None:
    """Refuse, as a ConfigurationError, a listing the workers could only dead-letter.

    For a command's first listing: one no parser reads would be refused every time.
    """
    problem = parse_problem(envelope)
    if problem is not None:
        raise ConfigurationError(
            f"PROCMON_COLLECT_COMMANDS: the workers cannot read what "
            f"{envelope.command_type!r} printed: {problem}"
        ) from problem
