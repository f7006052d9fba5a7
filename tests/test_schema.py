"""The scenario reference (``scsim schema``, docs/scenario-reference.md) and ``scsim new``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scsim.cli_schema import starter_text, write_atomic
from scsim.modules.bookings import Mode
from scsim.scenario import Scenario, load_raw, load_scenario, preset_names, validate
from scsim.schema import REGENERATE, fields, markdown

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "scenario-reference.md"


def _reference_rows() -> dict[str, list[list[str]]]:
    """Path -> the other cells of its row(s) (type, allowed, default, meaning, source), from the
    checked-in reference."""
    rows: dict[str, list[list[str]]] = {}
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^\| `([^`]+)` \|(.*)\|$", line)
        if found:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", found.group(2))]
            rows.setdefault(found.group(1), []).append(cells)
    return rows


def _json_schema_paths() -> set[str]:
    """Every field ``Scenario`` accepts, by a different route: its JSON schema, ``$ref``s
    resolved; ``[]`` for list items, ``<key>`` for the keys of a mapping of models."""
    schema = Scenario.model_json_schema()
    defs = schema.get("$defs", {})
    paths: set[str] = set()

    def walk(node: dict, prefix: str, refs: tuple[str, ...]) -> None:
        ref = node.get("$ref")
        if ref:
            if ref in refs:
                return
            walk(defs[ref.rsplit("/", 1)[1]], prefix, (*refs, ref))
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key, []):
                walk(sub, prefix, refs)
        for name, sub in node.get("properties", {}).items():
            path = f"{prefix}.{name}" if prefix else name
            paths.add(path)
            walk(sub, path, refs)
        if isinstance(node.get("items"), dict):
            walk(node["items"], prefix + "[]", refs)
        for sub in node.get("prefixItems", []):
            walk(sub, prefix + "[]", refs)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], prefix + ".<key>", refs)

    walk(schema, "", ())
    return paths


def test_checked_in_reference_is_the_generated_one():
    assert REFERENCE.read_text(encoding="utf-8") == markdown(), (
        f"docs/scenario-reference.md is out of date with the models; regenerate it: {REGENERATE}"
    )


def test_reference_lists_every_field_the_models_accept():
    accepted = _json_schema_paths()
    assert len(accepted) > 200  # the walk above found the modules, not just the top level
    listed = set(_reference_rows())
    assert listed - accepted == set(), "the reference lists fields the models do not accept"
    assert accepted - listed == set(), f"fields missing from the reference; run {REGENERATE}"
    assert {row.path for row in fields()} == accepted


def _bounds_text(field) -> str:
    """``0 ≤ x ≤ 1`` / ``0 < x ≤ 1000`` from a field's own ge/gt/le/lt metadata."""
    found = {
        k: getattr(m, k) for m in field.metadata for k in ("ge", "gt", "le", "lt") if hasattr(m, k)
    }
    low = f"{found['ge']:g} ≤ " if "ge" in found else f"{found['gt']:g} < "
    high = f" ≤ {found['le']:g}" if "le" in found else f" < {found['lt']:g}"
    return f"{low}x{high}"


@pytest.mark.parametrize(
    "path, model, name",
    [
        ("modules.bookings.modes[].rate", Mode, "rate"),  # Rate: a probability, ge=0, le=1
        ("modules.bookings.modes[].income_gradient", Mode, "income_gradient"),  # gt=0, le=1000
        ("days", Scenario, "days"),
    ],
)
def test_reference_shows_a_models_own_constraint_default_and_description(path, model, name):
    field = model.model_fields[name]
    ((type_, allowed, default, meaning, _source),) = _reference_rows()[path]
    assert allowed.startswith(_bounds_text(field))
    assert type_ == ("integer" if field.annotation is int else "number")
    expected_default = "required" if field.is_required() else f"{field.default:g}"
    assert default == expected_default
    assert meaning == " ".join((field.description or "").split())


def test_network_kinds_are_one_field_and_the_rest_say_which_kind():
    rows = _reference_rows()
    ((kind_type, *_),) = rows["network.kind"]
    assert kind_type == "one of: watts-strogatz, regional, layered"
    ((*_, k_meaning, _source),) = rows["network.k"]
    assert k_meaning.startswith("*kind: watts-strogatz only.*")


def test_scsim_schema_module_prints_its_fields(run_cli):
    result = run_cli("schema", "bookings")
    assert result.returncode == 0, result.stderr
    assert "modules.bookings" in result.stdout
    assert "income_gradient" in result.stdout
    assert "0 < x ≤ 1000" in result.stdout
    assert "infractions" not in result.stdout


def test_scsim_schema_unknown_module_exits_2_naming_it_and_the_known_ones(run_cli):
    result = run_cli("schema", "nosuchmodule")
    assert result.returncode == 2
    assert "'nosuchmodule' is not a module" in result.stderr
    for known in ("bookings", "peer_rating", "scoring", "network", "timeline"):
        assert known in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_scsim_schema_markdown_writes_the_reference(run_cli):
    result = run_cli("schema", "--markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout == REFERENCE.read_text(encoding="utf-8")


# ---------------------------------------------------------------- scsim new


def test_scsim_new_writes_a_commented_copy_of_the_preset_that_validates(run_cli, tmp_path):
    result = run_cli("new", "my-city", "--from", "sc-core", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "my-city.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my-city: a scsim scenario")
    assert "scsim schema" in text and "scsim run my-city.yaml" in text
    scenario = load_scenario(str(path))
    assert scenario.name == "my-city"
    assert yaml.safe_load(text) == {**load_raw("sc-core"), "name": "my-city"}  # sources kept
    assert [p.name for p in tmp_path.iterdir()] == ["my-city.yaml"]  # no temporary file left


def test_scsim_new_refuses_an_existing_file_unless_forced(run_cli, tmp_path):
    target = tmp_path / "mine.yaml"
    target.write_text("keep me\n")
    result = run_cli("new", "x", "--from", "sc-core", "--out", str(target))
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert str(target) in result.stderr
    assert target.read_text() == "keep me\n"
    forced = run_cli("new", "x", "--from", "sc-core", "--out", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert load_scenario(str(target)).name == "x"


def test_scsim_new_unknown_preset_exits_2_listing_presets(run_cli, tmp_path):
    result = run_cli("new", "x", "--from", "nosuchpreset", cwd=tmp_path)
    assert result.returncode == 2
    assert "'nosuchpreset' is not a preset" in result.stderr
    assert "sc-core" in result.stderr and "sesame" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_makes_a_valid_starter(preset, tmp_path):
    text, data = starter_text("starter", preset, tmp_path / "starter.yaml")
    assert yaml.safe_load(text) == data == {**load_raw(preset), "name": "starter"}
    assert validate(data).name == "starter"


def test_write_atomic_leaves_no_half_written_file(tmp_path, monkeypatch):
    target = tmp_path / "s.yaml"
    target.write_text("old\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("scsim.cli_schema.os.replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]
