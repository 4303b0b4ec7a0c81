"""Build hook: compile ``parsers/_row_assembly.c`` into the wheel (into the tree when editable).

Where no C compiler is found the build goes on without it and says so: the parsers then use
the Python twin of the same code (``parsers.row_assembly.ASSEMBLER`` says which is in use),
correct but about three times slower on ``ps`` listings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_EXTENSION = "parsers._row_assembly"
_SOURCE = "parsers/_row_assembly.c"


def compile_extension(root: Path, output: Path) -> Path:
    """Compile the extension with setuptools' build_ext into ``output``; the file it made."""
    from setuptools import Distribution, Extension

    extension = Extension(_EXTENSION, [str(root / _SOURCE)], extra_compile_args=_compile_args())
    distribution = Distribution({"ext_modules": [extension], "script_name": "hatch_build.py"})
    distribution.src_root = str(root)
    build_ext = distribution.get_command_obj("build_ext")
    build_ext.build_lib = str(output)  # type: ignore[attr-defined]
    build_ext.build_temp = str(output / "temp")  # type: ignore[attr-defined]
    build_ext.ensure_finalized()
    build_ext.run()
    built: str = build_ext.get_ext_fullpath(_EXTENSION)  # type: ignore[attr-defined]
    return Path(built)


def _compile_args() -> list[str]:
    return [] if sys.platform == "win32" else ["-O2", "-Wall", "-Wno-unused-parameter"]


class RowAssemblyBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled row assembler to wheels, and to the tree for editable installs."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile the extension; warn and leave the Python twin in charge if that fails."""
        root = Path(self.root)
        try:
            built = compile_extension(root, root / "build" / "row_assembly")
        except Exception as exc:  # any failure leaves the Python twin in charge
            self.app.display_warning(
                f"procmon: {_SOURCE} not compiled ({exc}); the parsers use the Python "
                "twin of the row assembler, about three times slower on ps listings"
            )
            return
        target = f"parsers/{built.name}"
        if version == "editable":
            # A new file, not one written over: running processes may have the old one mapped.
            staged = root / f"{target}.new"
            staged.write_bytes(built.read_bytes())
            os.replace(staged, root / target)
        else:
            build_data["force_include"][str(built)] = target
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
