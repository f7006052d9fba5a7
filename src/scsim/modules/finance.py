"""Finance (mission row 2): income shocks, loans, instalments, missed payments, defaults.

Seeds 000, 001 and 003 say the score weighs "ability to pay", debt, repayment and defaults.
Each adult (``min_age``; everyone without the population module) lives through:

- *income shocks* (job loss, illness, a failed business): a state entered with the daily hazard
  ``shock_rate`` and left with ``recovery_rate``;
- *borrowing*: without a loan, the need to borrow arises with the daily hazard ``loan_rate`` x
  an income factor ``(income median / income)^income_elasticity`` (capped at
  ``max_income_factor``; the cap for citizens without income) x a thrift factor ``1 +
  thrift_weight (1 - 2 thrift)`` x ``shock_multiplier`` during a shock. A lender approves with a
  chance rising from 0 at ``min_score`` to 1 at ``min_score + score_ramp`` (yesterday's score);
- *instalments*: a loan of ``term`` instalments falls due every ``cycle`` days from the day it
  was taken (the citizen's own due day). An instalment is missed with chance ``miss_prob`` x
  the thrift factor x ``shock_multiplier`` during a shock (``miss_again_prob`` instead of
  ``miss_prob`` right after a miss: arrears persist); a missed instalment is owed at the end
  (the loan runs one cycle longer). ``default_after`` consecutive misses make a default: the
  loan is written off into a defaulted debt, repaid with the daily hazard ``repay_rate`` x
  ``(2 - thrift factor)`` / ``shock_multiplier`` during a shock.

Hazards are not drawn daily: the day of the next event is drawn from its geometric waiting time
(``scsim.kernels.waiting``) and drawn afresh when a shock changes the hazard, so the hook's
common path is two comparisons. Score (component ``finance``): ``paid_effect`` per instalment
paid, ``missed_effect`` per miss, ``default_effect`` on default (records of misconduct: the
module is an offence module), ``repaid_effect`` on repaying a defaulted debt. The shared field
``default_day`` (day of the latest default) is read by the courts module.

With surveillance on, a missed instalment and a default are acts at place ``finance``: each is
a record of the bank (or whichever source sees ``finance``) and its score effect reaches the
score only if a pooled source named the citizen (``surveillance.sight``; the default is
sighted on its own stream, independently of the miss of the same day). Finance's own draws do
not change (common random numbers).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit, prange
from pydantic import Field

from scsim.kernels.waiting import NEVER, next_event_day
from scsim.modules.stocks import carry, initial_levels
from scsim.modules.surveillance import PLACES, SIGHT_FIELDS, sight, sight_args, sight_key
from scsim.params import ModuleParams, Probability, Rate
from scsim.protocol import Module, emit
from scsim.rng import agent_hash, agent_hash_k, u_hi, u_lo

# record columns, relative to ``col``
(
    R_TAKEN, R_REFUSED, R_ACTIVE, R_COMPLETED, R_DUE, R_PAID, R_MISSED, R_DEFAULTS, R_REPAID,
    R_IN_DEFAULT, R_LOSSES, R_RECOVERIES, R_IN_SHOCK,
) = range(13)  # fmt: skip
STOCKS = (R_ACTIVE, R_IN_DEFAULT, R_IN_SHOCK)
# event kinds, relative to ``evk``
(
    E_LOAN, E_REFUSED, E_PAID, E_MISSED, E_DEFAULT, E_REPAID, E_COMPLETED, E_SHOCK, E_RECOVERY,
) = range(9)  # fmt: skip
# day keys; settings packed into arrays (one parameter per kind of setting)
K_SHOCK, K_EVENT, K_SIGHT_DEFAULT = range(3)  # the last is surveillance's (0 when off)
P_SHOCK, P_RECOVERY, P_MULT, P_MISS, P_REPAY, P_THRIFT, P_MIN_SCORE, P_RAMP, P_AGAIN = range(9)
F_PAID, F_MISSED, F_DEFAULT, F_REPAID = range(4)
I_TERM, I_CYCLE, I_AFTER = range(3)
PLACE = PLACES.index("finance")
"""Where misses and defaults happen (who can see them, with surveillance)."""


class FinanceParams(ModuleParams):
    fixed = {
        "*": "finance derives its rates and first events from these before day 0; "
        "a timeline cannot change them yet"
    }

    shock_rate: Rate = Field(
        default=0.0003,
        description="daily chance an adult's income shock (job loss) begins (assumption: with "
        "recovery_rate, 4.8 % in shock at a time; China's urban surveyed unemployment was "
        "5.2 % in 2020)",
    )
    recovery_rate: Rate = Field(
        default=0.006,
        description="daily chance an income shock ends (assumption: spells of ~170 days)",
    )
    shock_multiplier: float = Field(
        default=4.0,
        ge=1,
        le=100,
        description="a shock multiplies the need to borrow and the chance to miss, and divides "
        "the repayment hazard of a defaulted debt (assumption)",
    )
    loan_rate: Rate = Field(
        default=0.002,
        description="daily need to borrow at the median income and thrift 0.5 (assumption: a "
        "loan about every 1.4 years between loans)",
    )
    income_elasticity: float = Field(
        default=0.5,
        ge=0,
        le=3,
        description="need x (income median / income)^this: the poorer borrow more (assumption)",
    )
    max_income_factor: float = Field(
        default=4.0,
        ge=1,
        le=100,
        description="cap of the income factor of the need, and the factor without income",
    )
    thrift_weight: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="need and miss chance x (1 + w (1 - 2 thrift)), repayment x (1 + w (2 "
        "thrift - 1)); needs the population's thrift, else thrift 0.5 (assumption)",
    )
    min_score: float = Field(
        default=550.0,
        ge=0,
        le=100_000,
        description="lender's minimum score (assumption; seed 000: credit is easier with a "
        "higher score)",
    )
    score_ramp: float = Field(
        default=100.0,
        ge=0,
        le=100_000,
        description="approval chance rises linearly from 0 at min_score to 1 at min_score + "
        "this (0: approved at min_score; assumption)",
    )
    term: int = Field(default=12, ge=1, le=240, description="instalments of a loan (assumption)")
    cycle: int = Field(default=30, ge=1, le=365, description="days between instalments (monthly)")
    miss_prob: Probability = Field(
        default=0.03,
        description="chance an instalment is missed at thrift 0.5 outside a shock (assumption)",
    )
    miss_again_prob: Probability = Field(
        default=0.4,
        description="the same for the instalment after a missed one: arrears persist "
        "(assumption: about 6-9 % of loans end in default at the defaults)",
    )
    default_after: int = Field(
        default=3,
        ge=1,
        le=100,
        description="consecutive missed instalments that make a default (90 days past due, "
        "the Basel definition of default, at monthly instalments)",
    )
    repay_rate: Rate = Field(
        default=0.005,
        description="daily chance a defaulted debt is repaid (assumption: half within ~140 days)",
    )
    min_age: int = Field(
        default=18, ge=0, le=120, description="youngest borrower (needs population's age)"
    )
    initial_share: Probability | None = Field(
        default=None,
        description="share of adults holding a loan on day 0, at a uniform stage of it; none: "
        "each adult's stationary share L h / (1 + L h) for its need h and loan length L",
    )
    paid_effect: float = Field(
        default=1.0, ge=0, le=1000, description="score change per instalment paid (assumption)"
    )
    missed_effect: float = Field(
        default=-10.0, ge=-1000, le=0, description="score change per missed instalment"
    )
    default_effect: float = Field(
        default=-50.0, ge=-1000, le=0, description="score change on default (seeds 000, 001)"
    )
    repaid_effect: float = Field(
        default=20.0,
        ge=0,
        le=1000,
        description="score change on repaying a defaulted debt (assumption)",
    )


FinanceArgs = namedtuple(
    "FinanceArgs",
    [
        "shock", "flip", "next_day", "left", "missed", "in_default", "default_day", "need",
        "thrift", "keys", "rates", "effects", "ints", *SIGHT_FIELDS, "col", "evk",
    ],
)  # fmt: skip


@njit(inline="always", cache=True)
def _thrift_factor(thrift, i, w):
    """``1 + w (1 - 2 thrift)``: below 1 for the thrifty (1 without the population)."""
    if thrift.size > 1:
        return 1.0 + w * (1.0 - 2.0 * thrift[i])
    return 1.0


@njit(inline="always", cache=True)
def _wait(day, u, i, s, in_default, need, thrift, rates):
    """Day of the next need to borrow, or of repaying a defaulted debt (shock state ``s``)."""
    mult = rates[P_MULT] if s else 1.0
    if in_default[i]:
        tf = _thrift_factor(thrift, i, rates[P_THRIFT])
        return next_event_day(day, u, rates[P_REPAY] * (2.0 - tf) / mult)
    return next_event_day(day, u, need[i] * mult)


@njit(inline="always", cache=True)
def finance_delta(
    a, rec, ev, shock, flip, next_day, left, missed, in_default, default_day, need, thrift,
    keys, rates, effects, ints, sv_on, sv_key, sv_cover, sv_src, sv_region, sv_buf, sv_col, sv_evk,
    col, evk,
):  # fmt: skip
    i = a.i
    day = a.day
    f = flip[i]
    t = next_day[i]
    if f != day and t != day:  # nothing happens today (most agent-days)
        return np.float32(0.0)
    g = a.region
    s = shock[i]
    if f == day:
        h = agent_hash(keys[K_SHOCK], i)
        s = not s
        shock[i] = s
        if s:
            flip[i] = next_event_day(day, u_hi(h), rates[P_RECOVERY])
            rec[g, col + R_LOSSES] += 1.0
            rec[g, col + R_IN_SHOCK] += 1.0
            emit(ev, a, evk + E_SHOCK, -1, 0.0, -1)
        else:
            flip[i] = next_event_day(day, u_hi(h), rates[P_SHOCK])
            rec[g, col + R_RECOVERIES] += 1.0
            rec[g, col + R_IN_SHOCK] -= 1.0
            emit(ev, a, evk + E_RECOVERY, -1, 0.0, -1)
        if t != day:
            if left[i] == 0:  # the hazard of the pending need or repayment changed
                next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
            return np.float32(0.0)
    h = agent_hash(keys[K_EVENT], i)
    if in_default[i]:  # the defaulted debt is repaid today
        in_default[i] = False
        rec[g, col + R_REPAID] += 1.0
        rec[g, col + R_IN_DEFAULT] -= 1.0
        next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
        emit(ev, a, evk + E_REPAID, -1, effects[F_REPAID], -1)
        return effects[F_REPAID]
    n_left = left[i]
    if n_left == 0:  # the need to borrow arises today
        excess = a.score - rates[P_MIN_SCORE]
        ramp = rates[P_RAMP]
        p = 0.0 if excess < 0 else (1.0 if excess >= ramp else excess / ramp)
        if u_hi(h) < p:
            left[i] = np.uint8(ints[I_TERM])
            next_day[i] = day + ints[I_CYCLE]
            rec[g, col + R_TAKEN] += 1.0
            rec[g, col + R_ACTIVE] += 1.0
            emit(ev, a, evk + E_LOAN, -1, 0.0, -1)
        else:
            next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
            rec[g, col + R_REFUSED] += 1.0
            emit(ev, a, evk + E_REFUSED, -1, 0.0, -1)
        return np.float32(0.0)
    rec[g, col + R_DUE] += 1.0
    tf = _thrift_factor(thrift, i, rates[P_THRIFT])
    base = rates[P_AGAIN] if missed[i] != 0 else rates[P_MISS]
    p_miss = base * tf * (rates[P_MULT] if s else 1.0)
    if u_hi(h) < p_miss:
        m = missed[i] + np.uint8(1)
        d = effects[F_MISSED]
        if sv_on and not sight(
            a, rec, ev, PLACE, d, sv_key, sv_cover, sv_src, sv_region, sv_buf, sv_col, sv_evk
        ):
            d = np.float32(0.0)  # no pooled source named the citizen: no score effect
        rec[g, col + R_MISSED] += 1.0
        emit(ev, a, evk + E_MISSED, -1, d, -1)
        if m >= ints[I_AFTER]:
            left[i] = np.uint8(0)
            missed[i] = np.uint8(0)
            in_default[i] = True
            default_day[i] = day
            next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
            rec[g, col + R_DEFAULTS] += 1.0
            rec[g, col + R_ACTIVE] -= 1.0
            rec[g, col + R_IN_DEFAULT] += 1.0
            x = effects[F_DEFAULT]
            if sv_on and not sight(
                a, rec, ev, PLACE, x, keys[K_SIGHT_DEFAULT], sv_cover, sv_src, sv_region,
                sv_buf, sv_col, sv_evk,
            ):  # fmt: skip
                x = np.float32(0.0)
            emit(ev, a, evk + E_DEFAULT, -1, x, -1)
            return d + x
        missed[i] = m
        next_day[i] = day + ints[I_CYCLE]
        return d
    rec[g, col + R_PAID] += 1.0
    emit(ev, a, evk + E_PAID, -1, effects[F_PAID], -1)
    if missed[i] != 0:
        missed[i] = np.uint8(0)
    n_left -= np.uint8(1)
    left[i] = n_left
    if n_left == 0:
        next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
        rec[g, col + R_COMPLETED] += 1.0
        rec[g, col + R_ACTIVE] -= 1.0
        emit(ev, a, evk + E_COMPLETED, -1, 0.0, -1)
    else:
        next_day[i] = day + ints[I_CYCLE]
    return effects[F_PAID]


@njit(parallel=True, cache=True)
def initial_state(key, adult, need, rates, ints, share, shock, flip, next_day, left):
    """Day-0 state: shocks at their stationary share, loans at ``share`` (< 0: each adult's
    stationary share) at a uniform stage, and the first event days (stream ``finance.init``)."""
    sr, rr = rates[P_SHOCK], rates[P_RECOVERY]
    p_shock = sr / (sr + rr) if sr + rr > 0 else 0.0
    length = float(ints[I_TERM] * ints[I_CYCLE])
    for i in prange(adult.size):
        if not adult[i]:
            flip[i] = NEVER
            next_day[i] = NEVER
            continue
        h1 = agent_hash(key, i)
        h2 = agent_hash_k(key, i, 1)
        h3 = agent_hash_k(key, i, 2)
        s = u_hi(h1) < p_shock
        shock[i] = s
        flip[i] = next_event_day(-1, u_lo(h1), rr if s else sr)
        hazard = need[i] * (rates[P_MULT] if s else 1.0)
        p_loan = share if share >= 0 else length * hazard / (1.0 + length * hazard)
        if hazard > 0 and u_hi(h2) < p_loan:
            left[i] = np.uint8(1 + min(math.floor(u_lo(h2) * ints[I_TERM]), ints[I_TERM] - 1))
            next_day[i] = np.int32(math.floor(u_hi(h3) * ints[I_CYCLE]))
        else:
            next_day[i] = next_event_day(-1, u_lo(h3), hazard)


class Finance(Module):
    """Income shocks, loans, instalments, defaults and repayment; see the module docstring and
    docs/odd_finance.md."""

    name = "finance"
    Args = FinanceArgs
    phase = "behaviour"
    delta = finance_delta
    offence = True
    sights_per_day = 2  # a miss and a default on the same day (surveillance's buffer bound)
    records = (
        "loans_taken", "loans_refused", "loans_active", "loans_completed", "instalments_due",
        "instalments_paid", "instalments_missed", "defaults", "repaid_after_default",
        "in_default", "job_losses", "recoveries", "in_shock",
    )  # fmt: skip
    events = (
        "loan", "refused", "paid", "missed", "default", "repaid", "completed", "shock",
        "recovery",
    )  # fmt: skip

    def init(self) -> None:
        p, people, n = self.params, self.sim.people, self.sim.n
        age, income = people.fields.get("age"), people.fields.get("income")
        adult = age >= p.min_age if age is not None else np.ones(n, dtype=np.bool_)
        self.thrift = people.fields.get("thrift", np.full(1, 0.5, dtype=np.float32))
        self.need = (p.loan_rate * self._income_factor(income, adult)).astype(np.float32)
        if self.thrift.size > 1:
            self.need *= 1.0 + p.thrift_weight * (1.0 - 2.0 * self.thrift)
        self.need[~adult] = 0.0
        self.rates = np.array([
            p.shock_rate, p.recovery_rate, p.shock_multiplier, p.miss_prob, p.repay_rate,
            p.thrift_weight, p.min_score, p.score_ramp, p.miss_again_prob,
        ], dtype=np.float64)  # fmt: skip
        effects = [p.paid_effect, p.missed_effect, p.default_effect, p.repaid_effect]
        self.effects = np.array(effects, dtype=np.float32) * np.float32(self.weight)
        self.ints = np.array([p.term, p.cycle, p.default_after], dtype=np.int64)
        shock = people.add("income_shock", np.zeros(n, dtype=np.bool_))
        flip = people.add("shock_flip_day", np.empty(n, dtype=np.int32))
        next_day = people.add("finance_next_day", np.empty(n, dtype=np.int32))
        left = people.add("instalments_left", np.zeros(n, dtype=np.uint8))
        people.add("missed_run", np.zeros(n, dtype=np.uint8))
        people.add("in_default", np.zeros(n, dtype=np.bool_))
        people.add("default_day", np.full(n, -1, dtype=np.int32))
        share = -1.0 if p.initial_share is None else p.initial_share
        initial_state(
            self.day_key("init", 0), adult, self.need, self.rates, self.ints, share, shock, flip,
            next_day, left,
        )  # fmt: skip
        region = people.fields.get("region")
        n_regions = int(region.max()) + 1 if region is not None else 1
        in_default = people.in_default
        self.initial = initial_levels(region, [left > 0, in_default, shock], n_regions)

    def _income_factor(self, income: np.ndarray | None, adult: np.ndarray) -> np.ndarray:
        """``(median / income)^elasticity``, capped; the cap without income (1: no population)."""
        p = self.params
        if income is None:
            return np.ones(self.sim.n, dtype=np.float64)
        earners = income[adult & (income > 0)]
        median = float(np.median(earners)) if earners.size else 1.0
        with np.errstate(divide="ignore"):
            factor = (median / income.astype(np.float64)) ** p.income_elasticity
        return np.minimum(factor, p.max_income_factor)

    def args(self, day: int) -> tuple:
        people = self.sim.people
        return FinanceArgs(
            people.income_shock, people.shock_flip_day, people.finance_next_day,
            people.instalments_left, people.missed_run, people.in_default, people.default_day,
            self.need, self.thrift, self._keys(day), self.rates, self.effects, self.ints,
            *sight_args(self, day), self.col, self.evk,
        )  # fmt: skip

    def _keys(self, day: int) -> np.ndarray:
        """Finance's own day keys (shock, event), then surveillance's for sighting defaults."""
        own = self.day_keys(["shock", "event"], day)
        return np.append(own, np.uint64(sight_key(self, "default", day))).astype(np.uint64)

    def finish(self, day: int) -> None:
        """Stocks (loans active, in default, in shock): net flows to levels."""
        carry(self.sim.records, day, [self.col + k for k in STOCKS], self.initial)
