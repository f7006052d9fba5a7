"""``scsim schema`` (every field of a scenario, from the models) and ``scsim new`` (a commented
scenario file to start from, copied from a preset)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer

from scsim.console import fail, out

WIDTH = 100
"""Comment lines of a new scenario file wrap here."""


def schema(
    module: Annotated[
        str | None,
        typer.Argument(
            metavar="[MODULE]",
            help="a module (e.g. bookings) or a block (scenario, population, network, output, "
            "timeline) [everything]",
        ),
    ] = None,
    as_markdown: Annotated[
        bool,
        typer.Option("--markdown", help="print Markdown (without MODULE: the whole reference)"),
    ] = False,
) -> None:
    """Every field of a scenario: type, allowed range, default, meaning and source."""
    from scsim.schema import markdown, pick, print_sections, sections

    everything = sections()
    chosen = everything if module is None else pick(module, everything)
    if not chosen:
        modules = [k.removeprefix("modules.") for k in everything if k.startswith("modules.")]
        blocks = sorted(k for k in everything if not k.startswith("modules."))
        raise fail(
            f"MODULE: {module!r} is not a module or block of a scenario; expected a module "
            f"({', '.join(sorted(modules))}) or a block ({', '.join(blocks)})"
        )
    if as_markdown:
        sys.stdout.write(markdown(None if module is None else chosen))
    else:
        print_sections(chosen, out)


def new(
    name: Annotated[str, typer.Argument(help="the scenario's name; the file is NAME.yaml")],
    preset: Annotated[
        str, typer.Option("--from", metavar="PRESET", help="the preset to copy (scsim presets)")
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="the file to write [NAME.yaml]")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write a commented scenario file to start from: a preset's copy under a new name."""
    from scsim.scenario import ScenarioError, preset_names, validate

    if preset not in preset_names():
        known = ", ".join(preset_names())
        raise fail(f"--from: {preset!r} is not a preset; expected one of: {known}")
    if out_file is None and ("/" in name or os.sep in name or name in ("", ".", "..")):
        raise fail(f"NAME: {name!r} cannot name a file; give a plain name or choose --out FILE")
    target = out_file if out_file is not None else Path(f"{name}.yaml")
    flag = "--out" if out_file is not None else "NAME"
    if target.is_dir():
        raise fail(f"{flag}: {str(target)!r} is a directory; expected a file")
    if target.exists() and not force:
        raise fail(
            f"{flag}: {str(target)!r} already exists; choose another file (--out) or overwrite it "
            "with --force"
        )
    if not target.parent.is_dir():
        raise fail(f"{flag}: the directory {str(target.parent)!r} does not exist")
    text, data = starter_text(name, preset, target)
    try:
        validate(data)
    except ScenarioError as e:
        raise fail(str(e)) from None
    try:
        write_atomic(target, text)
    except OSError as e:
        raise fail(f"{flag}: cannot write {str(target)!r} ({e.strerror})") from None
    out.print(f"wrote {target} (from the preset {preset}); every field: scsim schema")
    out.print(f"run it: scsim run {target}")


def starter_text(name: str, preset: str, target: Path) -> tuple[str, dict[str, Any]]:
    """A preset's YAML text renamed to ``name`` under a comment header, with a comment above each
    module; and the mapping it holds. The preset's own text (its ``sources:``, its order) is kept
    unless a line-wise rename would change what it says, in which case it is dumped anew."""
    from importlib import resources

    import yaml

    from scsim.scenario import load_raw

    original = resources.files("scsim.presets").joinpath(f"{preset}.yaml").read_text("utf-8")
    data = {**load_raw(preset), "name": name}
    line = yaml.safe_dump({"name": name}, allow_unicode=True, width=10**6).rstrip("\n")
    body, renamed = re.subn(r"^name:.*$", lambda _: line, original, count=1, flags=re.M)
    if not renamed or yaml.safe_load(body) != data:
        body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    body = _with_module_comments(body)
    if yaml.safe_load(body) != data:  # pragma: no cover - comments never change the data
        body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    header = (
        f"{name}: a scsim scenario, started from the preset {preset!r} by `scsim new`. Every "
        "field, its type, allowed range, default and meaning: `scsim schema` (one module: "
        "`scsim schema MODULE`) or docs/scenario-reference.md. Note under sources: where each "
        f"number you change comes from. Check and run it with `scsim run {target}`."
    )
    lines = textwrap.wrap(header, WIDTH - 2, break_on_hyphens=False)
    return "".join(f"# {x}\n" for x in lines) + "\n" + body, data


def _with_module_comments(body: str) -> str:
    """``body`` with a comment naming each module above its block under ``modules:``."""
    from scsim.schema import sections

    meanings = {
        key.removeprefix("modules."): rows[0].meaning
        for key, rows in sections().items()
        if key.startswith("modules.") and rows and rows[0].path == key
    }
    lines, result, inside, indent = body.splitlines(keepends=True), [], False, None
    for line in lines:
        if line[:1] not in ("", " ", "#", "\n"):
            inside = line.startswith("modules:")
        key = re.match(r"^( +)([a-z_]+):", line) if inside else None
        if key and indent is None:
            indent = key.group(1)
        if key and key.group(1) == indent and key.group(2) in meanings:
            module = key.group(2)
            note = textwrap.wrap(meanings[module], WIDTH - len(indent) - 2, break_on_hyphens=False)
            note.append(f"Every field: scsim schema {module}")
            result += [f"{indent}# {x}\n" for x in note]
        result.append(line)
    return "".join(result)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``: a
    reader sees the old file or the whole new one, never half of it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
