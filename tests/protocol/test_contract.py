"""The contract between a module and the fused kernel is checked when the kernel is built: a
hook that reads an undeclared name, a value of the wrong dtype or shape, or a value no field
declares stops the build with a message naming the module and the field. Values are passed by
name, so a hook's parameter order does not matter."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from scsim.engine import Sim
from scsim.modules import REGISTRY
from scsim.modules.expiry import Expiry, expiry_delta
from scsim.modules.perks import Perks
from scsim.protocol import ContractError
from tests.conftest import small

EXPIRY = {"modules.expiry.after_days": 20}


def _sim(monkeypatch, name: str, cls: type) -> Sim:
    """An sc-core run with expiry and perks, ``name``'s module replaced by ``cls``."""
    monkeypatch.setitem(REGISTRY, name, cls)
    return Sim(small(n=600, days=40, **EXPIRY, **{"modules.perks": {"deny_listed": True}}))


class FloatDays(Expiry):
    def kernel_values(self, day: int) -> dict:
        return super().kernel_values(day) | {"after_days": 20.5}


class TablesSwapped(Perks):
    def kernel_values(self, day: int) -> dict:
        values = super().kernel_values(day)
        return values | {"min_score": values["by_red"], "by_red": values["min_score"]}


class Undeclared(Expiry):
    def kernel_values(self, day: int) -> dict:
        return super().kernel_values(day) | {"afterdays": 20}


@njit(inline="always", cache=True)
def misspelt_delta(a, rec, ev, last_record, record_points, after_dayz, keep):
    return np.float32(0.0)


class Misspelt(Expiry):
    delta = misspelt_delta


@pytest.mark.parametrize(
    ("name", "cls", "message"),
    [
        ("expiry", FloatDays, "module 'expiry', field 'after_days': expected a int64 scalar, "
         "got float 20.5"),
        ("perks", TablesSwapped, "module 'perks', field 'min_score': expected a 1-D float32 "
         "array, got an array of bool"),
        ("expiry", Undeclared, r"kernel_values gives \['afterdays'\], which no field declares"),
        ("expiry", Misspelt, "a hook reads 'after_dayz', which is neither a declared field"),
    ],
)  # fmt: skip
def test_a_wrong_value_or_name_stops_the_build_naming_module_and_field(
    monkeypatch, name, cls, message
):
    with pytest.raises(ContractError, match=message):
        _sim(monkeypatch, name, cls).build()


@njit(inline="always", cache=True)
def reordered_delta(
    a, rec, ev, kind_expired, keep, col_records_expired, after_days, record_points, last_record
):
    return expiry_delta(
        a, rec, ev, last_record, record_points, after_days, keep, col_records_expired,
        kind_expired,
    )  # fmt: skip


class Reordered(Expiry):
    delta = reordered_delta


def test_values_go_by_name_so_the_order_of_a_hooks_parameters_does_not_matter(monkeypatch):
    plain = _sim(monkeypatch, "expiry", Expiry).run()
    reordered = _sim(monkeypatch, "expiry", Reordered).run()
    assert plain.record("records_expired").sum() > 0
    assert np.array_equal(plain.records, reordered.records)
    assert np.array_equal(plain.people.record_points, reordered.people.record_points)


class BareRecord(Expiry):
    records = ("records_expired",)


def test_a_record_without_its_metadata_stops_the_build(monkeypatch):
    with pytest.raises(ContractError, match="record 'records_expired' is not a scsim.protocol"):
        _sim(monkeypatch, "expiry", BareRecord).build()
