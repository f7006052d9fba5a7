"""The scenario reference: every field the scenario models accept, from the pydantic models.

``fields()`` walks ``scsim.scenario.Scenario`` (nested models, lists and mappings of models,
unions such as the network kinds) and yields one ``Row`` per field: its dotted path (``[]`` for
list items, ``<key>`` for mapping keys), its type in words, the range its constraints allow,
its default and its description. ``markdown()`` renders docs/scenario-reference.md (regenerate
it with ``scsim schema --markdown > docs/scenario-reference.md`` or ``python -m scsim.schema``);
``print_sections()`` renders ``scsim schema [MODULE]``. Nothing here is written by hand, so the
reference cannot drift from the models.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from scsim.params import ModuleParams
from scsim.schema_types import allowed, default, is_model, is_union, unwrap, words

REGENERATE = "scsim schema --markdown > docs/scenario-reference.md"
"""The command that writes docs/scenario-reference.md."""

_SOURCE = re.compile(
    r"\bseeds? \d{3}(?:(?:, | and |/)\d{3})*|\bmission rows? \d+(?:(?:, | and )\d+)*"
    r"|\bissue \d+|\bassumption\b|\b\d{4} census\b|\bcensus\b"
)


@dataclass(frozen=True)
class Row:
    """One field of the scenario."""

    path: str
    type: str
    allowed: str
    default: str
    meaning: str
    source: str
    only: str = ""
    """For a field of some variants of a union (network kinds): e.g. ``kind: regional``."""


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _meaning(field: FieldInfo, models: list[type[BaseModel]]) -> str:
    """The field's description; for a block without one, its module's or class's docstring."""
    if field.description:
        return " ".join(field.description.split())
    if len(models) == 1 and issubclass(models[0], ModuleParams):
        return _first_paragraph(sys.modules[models[0].__module__].__doc__)
    if len(models) == 1 and "__doc__" in vars(models[0]):
        return _first_paragraph(vars(models[0])["__doc__"])
    return ""


# ---------------------------------------------------------------- the walk


def _models_in(tp: Any, suffix: str = "") -> list[tuple[str, type[BaseModel]]]:
    """The models a value of type ``tp`` may hold, with the path from the field to each."""
    tp, _ = unwrap(tp)
    if is_model(tp):
        return [(suffix, tp)]
    if is_union(tp):
        return [found for arg in get_args(tp) for found in _models_in(arg, suffix)]
    args = get_args(tp)
    if get_origin(tp) in (list, tuple):
        return [found for arg in args if arg is not Ellipsis for found in _models_in(arg, "[]")]
    if get_origin(tp) is dict and args:
        return _models_in(args[1], suffix + ".<key>")
    return []


def _tag(model: type[BaseModel], discriminator: str | None) -> str:
    field = model.model_fields.get(discriminator or "")
    if field is not None and get_origin(unwrap(field.annotation)[0]) is Literal:
        return f"{discriminator}: {get_args(unwrap(field.annotation)[0])[0]}"
    return model.__name__


def _rows(model: type[BaseModel], prefix: str, ancestors: tuple[type, ...]) -> Iterator[Row]:
    for name, field in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        found = _models_in(field.annotation)
        meaning = _meaning(field, [m for _, m in found])
        module = len(found) == 1 and issubclass(found[0][1], ModuleParams)
        yield Row(
            path=path,
            type=words(field.annotation),
            allowed=allowed(field.annotation, field.metadata),
            default="null (off)" if module and field.default is None else default(field),
            meaning=meaning,
            source="; ".join(dict.fromkeys(_SOURCE.findall(meaning))),
        )
        variants = [m for _, m in found if m not in ancestors]
        discriminator = field.discriminator if isinstance(field.discriminator, str) else None
        per_variant = [
            (_tag(sub, discriminator), row)
            for suffix, sub in found
            if sub not in ancestors
            for row in _rows(sub, path + suffix, (*ancestors, sub))
        ]
        yield from _merge(per_variant, len(set(variants)))


def _merge(tagged: list[tuple[str, Row]], variants: int) -> Iterator[Row]:
    """One row per path and content; a row of only some variants of a union says which."""
    if variants <= 1:
        yield from (row for _, row in tagged)
        return
    groups: dict[tuple[str, ...], list[str]] = {}
    for tag, row in tagged:
        key = (row.path, row.type, row.allowed, row.default, row.meaning, row.source)
        groups.setdefault(key, []).append(tag)
    by_path: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
    for key, tags in groups.items():
        by_path.setdefault(key[0], []).append((key, tags))
    for path, entries in by_path.items():
        tag_names = [t for _, tags in entries for t in tags]
        if len(entries) > 1 and all(": " in t for t in tag_names):
            field, _ = tag_names[0].split(": ")
            if path.endswith("." + field):  # the discriminator itself: one row, every tag
                names = [t.split(": ", 1)[1] for t in tag_names]
                yield Row(path, "one of: " + ", ".join(names), "", "required", *entries[0][0][4:])
                continue
        for key, tags in entries:
            only = "" if len(tags) == variants else _only(tags)
            yield Row(*key, only=only)


def _only(tags: list[str]) -> str:
    field = tags[0].split(": ")[0] if ": " in tags[0] else ""
    if field and all(t.startswith(field + ": ") for t in tags):
        return f"{field}: " + ", ".join(t.split(": ", 1)[1] for t in tags)
    return ", ".join(tags)


def fields() -> list[Row]:
    """Every field of ``Scenario``, depth first, in the order the models declare them."""
    from scsim.scenario import Scenario

    return list(_rows(Scenario, "", (Scenario,)))


# ---------------------------------------------------------------- sections


def section_of(path: str, block_paths: set[str]) -> str:
    """``modules.<name>`` for a module's fields, a top-level block's name for its own fields
    (population, network, output, timeline), ``scenario`` for the top-level scalars."""
    parts = re.split(r"\.|\[\]", path)
    if parts[0] == "modules" and len(parts) > 1:
        return f"modules.{parts[1]}"
    if parts[0] != "modules" and parts[0] in block_paths:
        return parts[0]
    return "scenario"


def sections(rows: list[Row] | None = None) -> dict[str, list[Row]]:
    """Rows by section, sections in the order of their first field (``scenario`` first)."""
    rows = fields() if rows is None else rows
    blocks = {re.split(r"\.|\[\]", r.path)[0] for r in rows if re.search(r"\.|\[\]", r.path)}
    out: dict[str, list[Row]] = {"scenario": []}
    for row in rows:
        out.setdefault(section_of(row.path, blocks), []).append(row)
    return out


def pick(name: str, all_sections: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """The sections a ``scsim schema NAME`` asks for (a module, a block, or both for
    ``population``); empty when the name is unknown. ``peer-rating`` reads as ``peer_rating``."""
    name = name.strip().replace("-", "_").removeprefix("modules.")
    return {key: rows for key, rows in all_sections.items() if key in (name, f"modules.{name}")}


# ---------------------------------------------------------------- rendering

HEADER = f"""\
# Scenario reference

> Generated from the pydantic models by `{REGENERATE}`
> (or `python -m scsim.schema > docs/scenario-reference.md`); do not edit it by hand, regenerate
> it. tests/test_schema.py fails when this file and the models disagree.

Every field a scenario file (YAML) accepts, one table per block and per module. Write a new
scenario from a preset with `scsim new NAME --from PRESET` (a commented copy of the preset);
print one module's fields with `scsim schema MODULE` (e.g. `scsim schema bookings`), all of them
with `scsim schema`. A path's `[]` stands for every item of a list (`modes[].rate` is the `rate`
of each mode) and `<key>` for every key of a mapping. *Allowed* is what validation accepts;
*default* is used when the field is left out (*required*: it must be given whenever its block
is). A module is off unless its block is present (`enabled: false` switches it off in place).
*Source* names the seed text, mission row or assumption the field's description cites; a field
with an empty meaning has no description in the models yet. Where each number of a preset comes
from is in that preset's `sources:`.
"""


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown_meaning(row: Row) -> str:
    return f"*{row.only} only.* {row.meaning}".rstrip() if row.only else row.meaning


def markdown_section(title: str, rows: list[Row]) -> str:
    lines = [
        f"## `{title}`",
        "",
        "| field | type | allowed | default | meaning | source |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = (r.type, r.allowed, r.default, _markdown_meaning(r), r.source)
        lines.append(f"| `{r.path}` | " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(only: dict[str, list[Row]] | None = None) -> str:
    """The reference as Markdown: the whole document, or just the ``only`` sections."""
    chosen = sections() if only is None else only
    body = "\n".join(markdown_section(title, rows) for title, rows in chosen.items())
    return body if only is not None else f"{HEADER}\n{body}"


def print_sections(chosen: dict[str, list[Row]], console: Any) -> None:
    """Each section as a rich table: paths relative to the section, the block itself above."""
    from rich.markup import escape
    from rich.table import Table

    for title, rows in chosen.items():
        own = [r for r in rows if r.path == title]
        rest = [r for r in rows if r.path != title]
        heading = f"[bold]{escape(title)}[/]"
        if own:
            row = own[0]
            heading += f"  {escape(row.type)}, default: {escape(row.default)}"
            heading += f"\n{escape(row.meaning)}" if row.meaning else ""
        console.print(heading, highlight=False)
        wide = console.width >= 120  # else type, allowed and default share one column
        sourced = wide and any(r.source for r in rest)
        paths = [_relative(r.path, title) for r in rest]
        table = Table(box=None, pad_edge=False)
        table.add_column("field", overflow="fold", min_width=min(28, max(map(len, paths or [""]))))
        names = ("type", "allowed", "default", "meaning") if wide else ("value", "meaning")
        for name in names + ("source",) * sourced:
            table.add_column(name, overflow="fold", ratio=3 if name == "meaning" else None)
        for path, r in zip(paths, rest, strict=True):
            meaning = f"({r.only} only) {r.meaning}".rstrip() if r.only else r.meaning
            value = "\n".join(x for x in (r.type, r.allowed, f"default: {r.default}") if x)
            cells = [r.type, r.allowed, r.default] if wide else [value]
            table.add_row(*(escape(c) for c in [path, *cells, meaning] + [r.source] * sourced))
        console.print(table)
        console.print()


def _relative(path: str, section: str) -> str:
    return path if section == "scenario" else path.removeprefix(section).removeprefix(".")


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(markdown())
