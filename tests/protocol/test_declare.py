"""The declarations a module makes once: each field's check, and record columns by name."""

from __future__ import annotations

import numpy as np
import pytest

from scsim.protocol import ContractError, PerAgent, Record, Scalar, Table
from scsim.protocol.declare import columns


def test_a_scalar_takes_the_declared_dtype_and_refuses_what_would_change_its_meaning():
    assert Scalar("days", np.int64).check("m", 3, 10).dtype == np.int64
    assert Scalar("keep", np.float32).check("m", 1, 10).dtype == np.float32
    assert Scalar("on", np.bool_).check("m", True, 10).dtype == np.bool_
    for bad in (3.5, True, np.zeros(2)):  # a float truncated, a flag as a number, an array
        with pytest.raises(ContractError, match="module 'm', field 'days': expected a int64"):
            Scalar("days", np.int64).check("m", bad, 10)
    with pytest.raises(ContractError, match="field 'on'"):
        Scalar("on", np.bool_).check("m", 1, 10)


def test_a_per_agent_field_must_have_one_entry_per_citizen_of_its_dtype():
    f = PerAgent("until", np.int32, rows="tiers")
    f.check("m", np.zeros((3, 10), np.int32), 10)
    for bad in (np.zeros((3, 9), np.int32), np.zeros((3, 10), np.int64), np.zeros(10, np.int32)):
        with pytest.raises(ContractError, match="'until': expected a C-contiguous int32 array"):
            f.check("m", bad, 10)
    with pytest.raises(ContractError, match="C-contiguous"):
        f.check("m", np.zeros((10, 3), np.int32).T, 10)
    listed = PerAgent("listed", np.bool_, optional=True)
    assert listed.check("m", listed.stand_in(), 10).size == 1
    with pytest.raises(ContractError):
        PerAgent("listed", np.bool_).check("m", np.zeros(1, np.bool_), 10)


def test_a_table_checks_dtype_and_dimensions():
    Table("below", np.float32).check("m", np.zeros(4, np.float32), 10)
    with pytest.raises(ContractError, match="a 1-D float32 array"):
        Table("below", np.float32).check("m", np.zeros(4, np.float64), 10)
    with pytest.raises(ContractError, match="a 2-D"):
        Table("ages", np.int64, ndim=2).check("m", np.zeros(4, np.int64), 10)


def test_record_columns_are_derived_by_name_and_group():
    records = [
        Record("banned", "citizens under any sanction"),
        Record("sanction_flight", "banned from flying", group="sanction"),
        Record("sanction_rail", "banned from trains", group="sanction"),
        Record("newly_banned", "newly banned", kind="flow"),
    ]
    cols = columns(records, first=7)
    assert cols == {
        "col_banned": 7, "col_sanction_flight": 8, "col_sanction": 8, "col_sanction_rail": 9,
        "col_newly_banned": 10,
    }  # fmt: skip
    with pytest.raises(ContractError, match="group 'sanction' is not contiguous"):
        columns([records[1], records[0], records[2]], first=0)


def test_a_records_metadata_says_how_to_read_it():
    r = Record("wrongly_listed", "citizens wrongly listed", false=True, headline=True)
    assert r.integer and r.describe() == {
        "label": "citizens wrongly listed", "unit": "citizens", "kind": "stock",
        "section": "other", "false": True, "headline": True,
    }  # fmt: skip
    assert not Record("score_sum", "sum of scores", "points", "measure").integer
