"""A module that cannot run over several MPI ranks (``Module.splits`` False), for the refusal
tests of tests/test_mpi_run.py: the loyalty bonus of examples/loyalty_bonus (so its fused kernel
is the one tests/test_extensions.py compiles), marked so. Scenarios name it with
``extensions: {loyalty_bonus: "tests.unsplit:Unsplit"}``."""

from pathlib import Path

from scsim.extensions import find

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "loyalty_bonus"

LoyaltyBonus = find("loyalty_bonus", f"{EXAMPLE / 'loyalty.py'}:LoyaltyBonus")


class Unsplit(LoyaltyBonus):
    """The loyalty bonus, refused over several ranks."""

    splits = False


def unsplit_scenario() -> dict:
    """The example's scenario (sc-core and the bonus), with the bonus that cannot split."""
    import yaml

    raw = yaml.safe_load((EXAMPLE / "scenario.yaml").read_text(encoding="utf-8"))
    raw["extensions"] = {"loyalty_bonus": "tests.unsplit:Unsplit"}
    return raw
