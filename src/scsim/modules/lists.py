"""Blacklists and the redlist (mission rows 14, 15, 19): who is listed, for how long, wrongly?

Seed 002 (the Beijing plan) describes blacklists of the "untrustworthy", "publicly disclosing the
records of ... individuals' untrustworthiness", and "green channel" benefits for those with
better social credit (a redlist). Seed 004 gives the guiding principle "once untrustworthy,
always restricted" and the lawyer Li Xiaolin, listed by the top court on a judgement he could
not contest: no recourse.

A citizen is blacklisted when one of the rules holds (end of the day, after the new score):

- ``score``: the score is below ``blacklist_below`` (SC-core);
- ``court``: the citizen is a judgment defaulter (``court_listed``, kept by the courts module);
- ``act``: a record of an act that lists (catalogue entries with ``lists: true``) was made
  within the last ``act_days`` days (``listing_record``, kept by behaviour modules).

``removal`` says how a listing ends: ``score`` (it ends the day no rule holds: SC-core),
``expiry`` (it lasts ``listing_days`` days, then lapses unless a rule still holds, which renews
it for another term), ``never`` (seed 004). A listing is *wrongful* when no rule would hold on
the citizen's true record: listed by score while ``score - false_points`` is not below the
threshold (the false records made the difference), or by court on a wrong judgement
(``court_wrongful``). With ``appeals`` on, a listed citizen can appeal the listing
(``scsim.modules.lists_appeals``); off by default: no recourse (seed 004).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from scsim.days import DAY
from scsim.kernels.waiting import day_at
from scsim.modules.lists_appeals import (
    APPEAL_WON,
    K_AGGRAVATE,
    K_FILE,
    NO_APPEAL,
    P_FILE,
    STREAMS,
    appeal_probs,
    lists_delta,
)
from scsim.params import ModuleParams, Probability
from scsim.protocol import LISTED, REDLISTED, Module, PerAgent, Record, Scalar, Table, emit
from scsim.rng import agent_hash, u_hi, u_lo

REMOVALS = ("score", "expiry", "never")
SCORE, EXPIRY, NEVER = range(3)
"""``removal`` codes."""

# causes
C_SCORE, C_COURT, C_ACT, C_EXPIRED, C_APPEAL, C_RELEASED = range(6)

MAX_DAYS = np.uint16(65535)
"""``days_listed`` saturates here (179 years)."""

Threshold = Annotated[float, Field(ge=0, le=100_000)]


class ListsParams(ModuleParams):
    fixed = {
        "court": "court listings are state kept from day 0",
        "act_days": "listing records are state kept from day 0",
        "appeals": "appeals fuse a hook and keep state from day 0",
        "release_days": "release keeps state from day 0",
        "aggravated_share": "aggravated terms keep state from day 0",
    }

    blacklist_below: float = Field(
        default=500.0,
        ge=0,
        le=100_000,
        description="listed while the score is below this (0: no score rule; SC-core 500)",
    )
    court: bool = Field(
        default=False,
        description="list judgment defaulters (courts' court_listed; seed 004, the lawyer)",
    )
    act_days: int = Field(
        default=0,
        ge=0,
        le=36500,
        description="list for this many days from a record of an act that lists "
        "(catalogue entries with lists: true; 0: no act rule)",
    )
    removal: Literal["score", "expiry", "never"] = Field(
        default="score",
        description="score: delisted when no rule holds (SC-core); expiry: a listing lasts "
        "listing_days, then lapses unless a rule still holds; never: 'once untrustworthy, "
        "always restricted' (seed 004)",
    )
    listing_days: int = Field(
        default=730,
        ge=1,
        le=36500,
        description="term of a listing with removal: expiry (assumption: the two-year term of "
        "the Supreme People's Court's 2017 provisions on judgment defaulters)",
    )
    release_days: int | None = Field(
        default=None,
        ge=0,
        le=3650,
        description="with removal: expiry, a listing ends this many days after every rule "
        "stopped holding (a judgment defaulter performed), before its term ends (the 2017 SPC "
        "provisions: removal within 3 working days of performance); none: it lasts its term",
    )
    aggravated_share: Probability = Field(
        default=0.0,
        description="with removal: expiry, share of listings whose term is lengthened for "
        "aggravating conduct by 1, 2 or 3 years (equally likely; the 2017 SPC provisions, "
        "art. 2: 2 years, +1 to 3 for aggravating conduct, at most 5; the share is an "
        "assumption)",
    )
    disclose: bool = Field(
        default=True,
        description="the blacklist is public: neighbours see who is on it (seed 002)",
    )
    redlist_above: Threshold | None = Field(
        default=None,
        description="redlisted ('green channel', seed 002) while the score is at least this "
        "(e.g. 800); none: no redlist",
    )
    redlist_clean: bool = Field(
        default=True, description="only citizens never blacklisted can be redlisted"
    )
    appeals: bool = Field(
        default=False,
        description="listed citizens can appeal (off: no recourse, seed 004)",
    )
    appeal_rate: Probability = Field(
        default=0.02,
        description="daily chance a listed citizen files an appeal (one per listing; "
        "assumption: half file within about a month)",
    )
    appeal_delay: int = Field(
        default=15,
        ge=1,
        le=3650,
        description="days from filing to decision (assumption: the 15-day review of a "
        "correction request in the 2017 provisions)",
    )
    success_if_wrongful: Probability = Field(
        default=0.8, description="chance an appeal against a wrongful listing is won (assumption)"
    )
    success_if_rightful: Probability = Field(
        default=0.02, description="chance an appeal against a rightful listing is won (assumption)"
    )

    @model_validator(mode="after")
    def _term_settings(self) -> ListsParams:
        if self.removal != "expiry":
            for field, idle in (("release_days", None), ("aggravated_share", 0.0)):
                if getattr(self, field) != idle:
                    raise ValueError(
                        f"{field} acts only with removal: expiry (a listing's term), not "
                        f"removal: {self.removal}; set removal: expiry or remove {field}"
                    )
        return self


@njit(inline="always", cache=True)
def _wrongful(i, score, threshold, by_score, by_court, by_act, false_points, fp_on, court_wrongful):
    """A listing is wrongful when no rule would hold on the citizen's true record."""
    true_score = by_score and not (fp_on and score - false_points[i] >= threshold)
    return not (true_score or (by_court and not court_wrongful[i]) or by_act)


@njit(inline="always", cache=True)
def _term_end(i, listed_since, term, aggravated, term_until):
    """Day the current listing's term ends (its own, aggravated, term when drawn)."""
    return term_until[i] if aggravated > 0 else listed_since[i] + term


@njit(inline="always", cache=True)
def lists_after(
    a, score, rec, ev, listed, redlisted, wrongful, listed_since, days_listed, appeal_due,
    false_points, court_listed, court_wrongful, listing_record, cleared_since, term_until,
    threshold, court, act_days, removal, term, release, aggravated, fp_on, red_on, red_above,
    red_clean, disclose, appeals, keys, probs, delay, col_listed, col_newly_listed,
    col_delisted, col_wrongly_listed, col_newly_wrongly_listed, col_redlisted, col_appeals_filed,
    col_renewed, kind_listed, kind_delisted, kind_renewed, kind_redlisted, kind_unredlisted,
    kind_appeal_filed,
):  # fmt: skip
    i = a.i
    day = a.day
    by_score = score < threshold
    by_court = court and court_listed[i]
    by_act = act_days > 0 and listing_record[i] >= 0 and day - listing_record[i] < act_days
    holds = by_score or by_court or by_act
    was = listed[i]
    out = np.uint8(0)
    now = False
    if was or holds:  # else: neither listed nor listable (SC-core: most agents stop here)
        now = holds
        won = False
        renew = False
        released = False
        if was:
            if appeals and appeal_due[i] == APPEAL_WON:
                now = False
                won = True
            elif removal == EXPIRY:
                if day >= _term_end(i, listed_since, term, aggravated, term_until):
                    renew = holds
                elif release >= 0 and not holds:  # released a few days after the rules end
                    if cleared_since[i] < 0:
                        cleared_since[i] = day
                    now = day - cleared_since[i] < release
                    released = not now
                else:
                    now = True
                    if release >= 0 and cleared_since[i] >= 0:
                        cleared_since[i] = -1
            elif removal == NEVER:
                now = True
        if now:
            rec[a.region, col_listed] += 1.0
            if not was or renew:
                cause = C_SCORE if by_score else (C_COURT if by_court else C_ACT)
                listed_since[i] = day
                if aggravated > 0:  # 1-3 more years for aggravating conduct
                    h = agent_hash(keys[K_AGGRAVATE], i)
                    years = np.int64(1 + u_lo(h) * 3) if u_hi(h) < aggravated else 0
                    term_until[i] = day_at(day + term + 365 * years)
                w = _wrongful(
                    i, score, threshold, by_score, by_court, by_act, false_points, fp_on,
                    court_wrongful,
                )  # fmt: skip
                if w != wrongful[i]:
                    wrongful[i] = w
                if was:
                    rec[a.region, col_renewed] += 1.0
                    emit(ev, a, kind_renewed, cause, 0.0, -1)
                else:
                    listed[i] = True
                    rec[a.region, col_newly_listed] += 1.0
                    if w:
                        rec[a.region, col_newly_wrongly_listed] += 1.0
                    emit(ev, a, kind_listed, cause, 0.0, -1)
            elif removal == SCORE and (fp_on or court):  # held because a rule holds today
                w = _wrongful(
                    i, score, threshold, by_score, by_court, by_act, false_points, fp_on,
                    court_wrongful,
                )  # fmt: skip
                if w != wrongful[i]:
                    wrongful[i] = w
            if wrongful[i]:
                rec[a.region, col_wrongly_listed] += 1.0
            held = days_listed[i]
            if held < MAX_DAYS:
                days_listed[i] = held + np.uint16(1)
            if appeals and appeal_due[i] == NO_APPEAL:
                if u_hi(agent_hash(keys[K_FILE], i)) < probs[P_FILE]:
                    appeal_due[i] = day_at(day + delay)
                    rec[a.region, col_appeals_filed] += 1.0
                    emit(ev, a, kind_appeal_filed, -1, 0.0, -1)
            if disclose:
                out = LISTED
        elif was:
            listed[i] = False
            rec[a.region, col_delisted] += 1.0
            cause = C_EXPIRED if removal == EXPIRY else -1
            if won or released:
                cause = C_APPEAL if won else C_RELEASED
            if release >= 0:
                cleared_since[i] = -1
            emit(ev, a, kind_delisted, cause, 0.0, -1)
            if wrongful[i]:
                wrongful[i] = False
            if appeals and appeal_due[i] != NO_APPEAL:
                appeal_due[i] = NO_APPEAL
    if red_on:
        red = score >= red_above and not now and (not red_clean or days_listed[i] == 0)
        if red != redlisted[i]:
            redlisted[i] = red
            emit(ev, a, kind_redlisted if red else kind_unredlisted, -1, 0.0, -1)
        if red:
            rec[a.region, col_redlisted] += 1.0
            out |= REDLISTED
    return np.uint8(out)


class Lists(Module):
    """Blacklist rules, removal, wrongful listings, appeals and the redlist; see the module
    docstring and docs/odd_lists.md."""
    reach = "own"

    name = "lists"
    phase = "lists"
    shared = ("listed",)  # read by look-ups, family sanctions and shunning
    fields = (
        PerAgent("listed", np.bool_, fill=False, doc="on the blacklist today"),
        PerAgent("redlisted", np.bool_, fill=False, doc="on the redlist today"),
        PerAgent("wrongful", np.bool_, fill=False, doc="the current listing is wrongful"),
        PerAgent("listed_since", DAY, fill=-1, doc="first day of the listing's term"),
        PerAgent("days_listed", np.uint16, fill=0, doc="days on the blacklist (saturating)"),
        PerAgent("appeal_due", DAY, optional=True, doc="with appeals: decision day or a code"),
        PerAgent("cleared_since", DAY, optional=True, doc="release_days: since no rule held"),
        PerAgent("term_until", DAY, optional=True, doc="aggravated_share: the term's end"),
        PerAgent("false_points", np.float32, optional=True, doc="false penalties on file"),
        PerAgent("court_listed", np.bool_, optional=True, doc="a judgment defaulter (courts)"),
        PerAgent("court_wrongful", np.bool_, optional=True, doc="on a wrong judgement (courts)"),
        PerAgent("listing_record", DAY, optional=True, doc="day of the last listing act"),
        Scalar("threshold", np.float32, doc="blacklist_below"),
        Scalar("court", np.bool_, doc="the court rule lists judgment defaulters"),
        Scalar("act_days", np.int64, doc="days an act that lists lists for (0: no act rule)"),
        Scalar("removal", np.int64, doc="SCORE, EXPIRY or NEVER"),
        Scalar("term", np.int64, doc="listing_days"),
        Scalar("release", np.int64, doc="release_days (-1: none)"),
        Scalar("aggravated", np.float64, doc="aggravated_share"),
        Scalar("fp_on", np.bool_, doc="false points are kept"),
        Scalar("red_on", np.bool_, doc="a redlist is kept"),
        Scalar("red_above", np.float32, doc="redlist_above (0: no redlist)"),
        Scalar("red_clean", np.bool_, doc="only the never listed are redlisted"),
        Scalar("disclose", np.bool_, doc="the blacklist is public (LISTED flag)"),
        Scalar("appeals", np.bool_, doc="listed citizens appeal"),
        Table("keys", np.uint64, doc="day keys: K_FILE, K_DECIDE, K_AGGRAVATE"),
        Table("probs", np.float64, doc="P_FILE, P_WIN_WRONGFUL, P_WIN_RIGHTFUL"),
        Scalar("delay", np.int64, doc="appeal_delay"),
    )
    records = (
        Record("listed", "citizens on the blacklist", section="lists", headline=True),
        Record("newly_listed", "citizens newly blacklisted", kind="flow", section="lists"),
        Record("delisted", "citizens taken off the blacklist", kind="flow", section="lists"),
        Record(
            "wrongly_listed",
            "citizens wrongly blacklisted",
            section="lists",
            false=True,
            headline=True,
        ),
        Record(
            "newly_wrongly_listed",
            "citizens newly and wrongly blacklisted",
            kind="flow",
            section="lists",
            false=True,
        ),
        Record("redlisted", "citizens on the redlist", section="lists"),
        Record(
            "appeals_filed", "appeals filed against a listing", "appeals", "flow", section="lists"
        ),
        Record("appeals_won", "appeals won (listing lifted)", "appeals", "flow", section="lists"),
        Record("appeals_lost", "appeals lost", "appeals", "flow", section="lists"),
        Record("renewed", "listings renewed for a new term", "listings", "flow", section="lists"),
    )
    after = lists_after
    events = (
        "listed", "delisted", "renewed", "redlisted", "unredlisted",
        "appeal_filed", "appeal_won", "appeal_lost",
    )  # fmt: skip

    @property
    def delta(self):
        """Fused only when appeals are on (a won appeal restores false points)."""
        return lists_delta if self.params.appeals else None

    @classmethod
    def has_delta(cls, params: ListsParams) -> bool:
        return params.appeals

    @property
    def causes(self) -> tuple[str, ...]:
        return ("score", "court", "act", "expired", "appeal", "released")

    def init(self) -> None:
        """State kept only with the options that need it (shared state with ``ensure``)."""
        p, people = self.params, self.sim.people
        if p.appeals:
            people.add("appeal_due", people.full(NO_APPEAL, DAY))
            people.ensure("false_points", np.float32, 0.0)  # restored by a won appeal
        if p.court:
            people.ensure("court_listed", np.bool_, False)
            people.ensure("court_wrongful", np.bool_, False)
        if p.act_days > 0:
            people.ensure("listing_record", DAY, -1)
        if p.release_days is not None:
            people.add("cleared_since", people.full(-1, DAY))
        if p.aggravated_share > 0:
            people.add("term_until", people.full(-1, DAY))
        self.refresh()

    def refresh(self) -> None:
        """Appeal probabilities from the parameters in force."""
        self.probs = appeal_probs(self.params)

    def kernel_values(self, day: int) -> dict:
        p = self.params
        red_on = p.redlist_above is not None
        return {
            "threshold": p.blacklist_below, "court": p.court, "act_days": p.act_days,
            "removal": REMOVALS.index(p.removal), "term": p.listing_days,
            "release": -1 if p.release_days is None else p.release_days,
            "aggravated": p.aggravated_share,
            # looked up daily: whoever keeps them (surveillance, courts) may come later in the
            # init order
            "fp_on": "false_points" in self.sim.people.fields,
            "red_on": red_on, "red_above": p.redlist_above if red_on else 0.0,
            "red_clean": p.redlist_clean, "disclose": p.disclose, "appeals": p.appeals,
            "keys": self.day_keys(list(STREAMS), day),
            "probs": self.probs, "delay": p.appeal_delay,
        }  # fmt: skip
