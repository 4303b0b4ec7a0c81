"""The operating systems procmon knows by name, in envelopes and on the command line.

A module of its own, without pydantic: ``procmon parse`` starts as a program compared with
``jc``, and its ``--os`` choices must not pull in the envelope's validation.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["OS_TYPES", "OsType"]

OsType = Literal["linux", "macos", "freebsd", "openbsd", "netbsd", "windows"]
OS_TYPES: tuple[str, ...] = get_args(OsType)
