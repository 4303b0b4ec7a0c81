"""The committed ``schema.graphql`` is exactly the schema the code serves."""

from __future__ import annotations

from pathlib import Path

from graphql_api import schema
from graphql_api.schema import build_schema
from procmon.settings import Settings

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"

REGENERATE = (
    ".venv/bin/strawberry export-schema graphql_api.schema:schema --output schema.graphql"
    " (needs strawberry-graphql[cli])"
)


def test_committed_schema_matches_the_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    # export-schema ends the file with a newline that as_str() does not have.
    assert committed.removesuffix("\n") == schema.as_str(), (
        f"{SCHEMA_FILE.name} differs from the schema the code serves; regenerate it with: "
        f"{REGENERATE}"
    )


def test_the_default_settings_serve_the_exported_schema() -> None:
    # The declared defaults, not the environment's: the same object, so the same text.
    assert build_schema(Settings.model_construct()) is schema
