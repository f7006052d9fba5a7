"""The command line's two consoles and its one way to fail on a user's mistake."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

err = Console(stderr=True)
out = Console(soft_wrap=True)  # paths and figures are never wrapped mid-word


def fail(message: str) -> typer.Exit:
    """Print a one-line (or one-per-field) error and return the exit to raise (code 2)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=2)
