"""Build hook: compile the C twins into the wheel (into the tree when editable).

``parsers/_row_assembly.c`` (see parsers.row_assembly), ``streams/_copy_rows.c`` (see
streams.copy_rows), ``history/_linking.c`` (see history.linking) and ``procmon/_row_json.c``
(see procmon.row_json). Where one does not compile (no C compiler) the build goes on without
it and says so: its Python twin is then used, correct but slower (``ASSEMBLER``,
``ENCODER``, ``LINKER`` and ``ROW_JSON`` in those modules say which is in use).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

EXTENSIONS = {
    "parsers._row_assembly": "parsers/_row_assembly.c",
    "streams._copy_rows": "streams/_copy_rows.c",
    "history._linking": "history/_linking.c",
    "procmon._row_json": "procmon/_row_json.c",
}
"""Each compiled module, by the C source it is built from."""


def compile_extension(root: Path, name: str, output: Path) -> Path:
    """Compile the extension ``name`` with setuptools' build_ext into ``output``; its file."""
    from setuptools import Distribution, Extension

    extension = Extension(name, [str(root / EXTENSIONS[name])], extra_compile_args=_flags())
    distribution = Distribution({"ext_modules": [extension], "script_name": "hatch_build.py"})
    distribution.src_root = str(root)
    build_ext = distribution.get_command_obj("build_ext")
    build_ext.build_lib = str(output)
    build_ext.build_temp = str(output / "temp")
    build_ext.ensure_finalized()
    build_ext.run()
    built: str = build_ext.get_ext_fullpath(name)
    return Path(built)


def _flags() -> list[str]:
    return [] if sys.platform == "win32" else ["-O2", "-Wall", "-Wno-unused-parameter"]


class CompiledTwinsBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Adds the compiled twins to wheels, and to the tree for editable installs."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile each extension; warn and leave its Python twin in charge if that fails."""
        root = Path(self.root)
        for name, source in EXTENSIONS.items():
            try:
                built = compile_extension(root, name, root / "build" / "compiled")
            except Exception as exc:  # any failure leaves the Python twin in charge
                self.app.display_warning(
                    f"procmon: {source} not compiled ({exc}); its Python twin is used, slower"
                )
                continue
            target = f"{name.rpartition('.')[0]}/{built.name}"
            if version == "editable":
                # A new file, not one written over: running processes may have it mapped.
                staged = root / f"{target}.new"
                staged.write_bytes(built.read_bytes())
                os.replace(staged, root / target)
            else:
                build_data["force_include"][str(built)] = target
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
