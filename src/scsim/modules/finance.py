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

import numpy as np
from numba import njit, prange

from scsim.days import DAY, NEVER
from scsim.kernels.waiting import day_at, next_event_day
from scsim.modules.population_tables import adults
from scsim.modules.stocks import carry, initial_levels
from scsim.modules.surveillance import PLACES, SIGHT, sight, sight_key, sight_values
from scsim.protocol import Module, PerAgent, Record, Table, emit
from scsim.rng import agent_hash, agent_hash_k, u_hi, u_lo

# day keys; settings packed into arrays (one parameter per kind of setting)
K_SHOCK, K_EVENT, K_SIGHT_DEFAULT = range(3)  # the last is surveillance's (0 when off)
P_SHOCK, P_RECOVERY, P_MULT, P_MISS, P_REPAY, P_THRIFT, P_MIN_SCORE, P_RAMP, P_AGAIN = range(9)
F_PAID, F_MISSED, F_DEFAULT, F_REPAID = range(4)
I_TERM, I_CYCLE, I_AFTER = range(3)
FLOWS = (
    ("loans_taken", "loans taken out", "loans"),
    ("loans_refused", "loans refused (score too low)", "applications"),
    ("loans_completed", "loans paid off", "loans"),
    ("instalments_due", "loan instalments due", "instalments"),
    ("instalments_paid", "loan instalments paid", "instalments"),
    ("instalments_missed", "loan instalments missed", "instalments"),
    ("defaults", "loans defaulted on", "loans"),
    ("repaid_after_default", "defaulted debts repaid", "debts"),
    ("job_losses", "income shocks begun (job loss, illness)", "shocks"),
    ("recoveries", "income shocks ended", "shocks"),
)
"""Records of what happened each day: (name, label, unit)."""
STOCKS = (
    ("loans_active", "loans outstanding", "loans"),
    ("in_default", "loans in default", "loans"),
    ("in_shock", "citizens in an income shock", "citizens"),
)
"""Records of states, kept by the hook as net flows and carried to levels in ``finish`` (record
group ``stock``, in the order of ``Finance.initial``'s columns)."""
PLACE = PLACES.index("finance")
"""Where misses and defaults happen (who can see them, with surveillance)."""


@njit(inline="always", cache=True)
def _thrift_factor(thrift, i, w):
    """``1 + w (1 - 2 thrift)``: below 1 for the thrifty (1 without the population)."""
    if thrift.size > 1:
        return 1.0 + w * (1.0 - 2.0 * thrift[i])
    return 1.0


@njit(cache=True)
def _wait(day, u, i, s, in_default, need, thrift, rates):
    """Day of the next need to borrow, or of repaying a defaulted debt (shock state ``s``)."""
    mult = rates[P_MULT] if s else 1.0
    if in_default[i]:
        tf = _thrift_factor(thrift, i, rates[P_THRIFT])
        return next_event_day(day, u, rates[P_REPAY] * (2.0 - tf) / mult)
    return next_event_day(day, u, need[i] * mult)


@njit(inline="always", cache=True)
def finance_delta(
    a, rec, ev, income_shock, shock_flip_day, finance_next_day, instalments_left, missed_run,
    in_default, default_day, need, thrift, keys, rates, effects, ints, sv_on, sv_key, sv_cover,
    sv_src, sv_region, sv_buf, sv_col, sv_evk, col_loans_taken, col_loans_refused,
    col_loans_active, col_loans_completed, col_instalments_due, col_instalments_paid,
    col_instalments_missed, col_defaults, col_repaid_after_default, col_in_default,
    col_job_losses, col_recoveries, col_in_shock, kind_loan, kind_refused, kind_paid,
    kind_missed, kind_default, kind_repaid, kind_completed, kind_shock, kind_recovery,
):  # fmt: skip
    i = a.i
    day = a.day
    f = shock_flip_day[i]
    t = finance_next_day[i]
    if f != day and t != day:  # nothing happens today (most agent-days)
        return np.float32(0.0)
    g = a.region
    s = income_shock[i]
    if f == day:
        h = agent_hash(keys[K_SHOCK], i)
        s = not s
        income_shock[i] = s
        if s:
            shock_flip_day[i] = next_event_day(day, u_hi(h), rates[P_RECOVERY])
            rec[g, col_job_losses] += 1.0
            rec[g, col_in_shock] += 1.0
            emit(ev, a, kind_shock, -1, 0.0, -1)
        else:
            shock_flip_day[i] = next_event_day(day, u_hi(h), rates[P_SHOCK])
            rec[g, col_recoveries] += 1.0
            rec[g, col_in_shock] -= 1.0
            emit(ev, a, kind_recovery, -1, 0.0, -1)
        if t != day:
            if instalments_left[i] == 0:  # the hazard of the pending need or repayment changed
                finance_next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
            return np.float32(0.0)
    h = agent_hash(keys[K_EVENT], i)
    if in_default[i]:  # the defaulted debt is repaid today
        in_default[i] = False
        rec[g, col_repaid_after_default] += 1.0
        rec[g, col_in_default] -= 1.0
        finance_next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
        emit(ev, a, kind_repaid, -1, effects[F_REPAID], -1)
        return effects[F_REPAID]
    n_left = instalments_left[i]
    if n_left == 0:  # the need to borrow arises today
        excess = a.score - rates[P_MIN_SCORE]
        ramp = rates[P_RAMP]
        p = 0.0 if excess < 0 else (1.0 if excess >= ramp else excess / ramp)
        if u_hi(h) < p:
            instalments_left[i] = np.uint8(ints[I_TERM])
            finance_next_day[i] = day_at(day + ints[I_CYCLE])
            rec[g, col_loans_taken] += 1.0
            rec[g, col_loans_active] += 1.0
            emit(ev, a, kind_loan, -1, 0.0, -1)
        else:
            finance_next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
            rec[g, col_loans_refused] += 1.0
            emit(ev, a, kind_refused, -1, 0.0, -1)
        return np.float32(0.0)
    rec[g, col_instalments_due] += 1.0
    tf = _thrift_factor(thrift, i, rates[P_THRIFT])
    base = rates[P_AGAIN] if missed_run[i] != 0 else rates[P_MISS]
    p_miss = base * tf * (rates[P_MULT] if s else 1.0)
    if u_hi(h) < p_miss:
        m = missed_run[i] + np.uint8(1)
        d = effects[F_MISSED]
        if sv_on and not sight(
            a, rec, ev, PLACE, d, sv_key, sv_cover, sv_src, sv_region, sv_buf, sv_col, sv_evk
        ):
            d = np.float32(0.0)  # no pooled source named the citizen: no score effect
        rec[g, col_instalments_missed] += 1.0
        emit(ev, a, kind_missed, -1, d, -1)
        if m >= ints[I_AFTER]:
            instalments_left[i] = np.uint8(0)
            missed_run[i] = np.uint8(0)
            in_default[i] = True
            default_day[i] = day
            finance_next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
            rec[g, col_defaults] += 1.0
            rec[g, col_loans_active] -= 1.0
            rec[g, col_in_default] += 1.0
            x = effects[F_DEFAULT]
            if sv_on and not sight(
                a, rec, ev, PLACE, x, keys[K_SIGHT_DEFAULT], sv_cover, sv_src, sv_region,
                sv_buf, sv_col, sv_evk,
            ):  # fmt: skip
                x = np.float32(0.0)
            emit(ev, a, kind_default, -1, x, -1)
            return d + x
        missed_run[i] = m
        finance_next_day[i] = day_at(day + ints[I_CYCLE])
        return d
    rec[g, col_instalments_paid] += 1.0
    emit(ev, a, kind_paid, -1, effects[F_PAID], -1)
    if missed_run[i] != 0:
        missed_run[i] = np.uint8(0)
    n_left -= np.uint8(1)
    instalments_left[i] = n_left
    if n_left == 0:
        finance_next_day[i] = _wait(day, u_lo(h), i, s, in_default, need, thrift, rates)
        rec[g, col_loans_completed] += 1.0
        rec[g, col_loans_active] -= 1.0
        emit(ev, a, kind_completed, -1, 0.0, -1)
    else:
        finance_next_day[i] = day_at(day + ints[I_CYCLE])
    return effects[F_PAID]


@njit(parallel=True, cache=True)
def initial_state(key, adult, need, rates, ints, share, shock, flip, next_day, left, lo, hi):
    """Day-0 state of the citizens ``lo..hi-1``: shocks at their stationary share, loans at
    ``share`` (< 0: each adult's stationary share) at a uniform stage, and the first event days
    (stream ``finance.init``)."""
    sr, rr = rates[P_SHOCK], rates[P_RECOVERY]
    p_shock = sr / (sr + rr) if sr + rr > 0 else 0.0
    length = float(ints[I_TERM] * ints[I_CYCLE])
    for i in prange(lo, hi):
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
            next_day[i] = day_at(math.floor(u_hi(h3) * ints[I_CYCLE]))
        else:
            next_day[i] = next_event_day(-1, u_lo(h3), hazard)


class Finance(Module):
    """Income shocks, loans, instalments, defaults and repayment; see the module docstring and
    docs/odd_finance.md."""
    reach = "own"

    name = "finance"
    phase = "behaviour"
    delta = finance_delta
    offence = True
    sights_per_day = 2  # a miss and a default on the same day (surveillance's buffer bound)
    fields = (
        PerAgent("income_shock", np.bool_, fill=False, doc="in an income shock"),
        PerAgent("shock_flip_day", DAY, fill=NEVER, doc="day the shock begins or ends"),
        PerAgent(
            "finance_next_day",
            DAY,
            fill=NEVER,
            doc="day of the next need to borrow, instalment or repayment",
        ),  # fmt: skip
        PerAgent("instalments_left", np.uint8, fill=0, doc="instalments left (0: no loan)"),
        PerAgent("missed_run", np.uint8, fill=0, doc="consecutive instalments missed"),
        PerAgent("in_default", np.bool_, fill=False, doc="holds a defaulted debt"),
        PerAgent("default_day", DAY, fill=-1, doc="day of the latest default (-1: none)"),
        PerAgent("need", np.float32, doc="daily need to borrow outside a shock"),
        PerAgent("thrift", np.float32, optional=True, doc="thrift (population module)"),
        Table("keys", np.uint64, doc="day keys: shock, event, sighting a default"),
        Table("rates", np.float64, doc="hazards, chances and score settings (P_*)"),
        Table("effects", np.float32, doc="weighted score effects (F_*)"),
        Table("ints", np.int64, doc="term, cycle, misses to default (I_*)"),
        *SIGHT,
    )
    records = (
        *(
            Record(n, label, unit, "flow", section="behaviour", headline=n == "loans_refused")
            for n, label, unit in FLOWS
        ),
        *(Record(n, label, unit, group="stock", section="behaviour") for n, label, unit in STOCKS),
    )
    events = (
        "loan", "refused", "paid", "missed", "default", "repaid", "completed", "shock",
        "recovery",
    )  # fmt: skip

    def init(self) -> None:
        p, people = self.params, self.sim.people
        income, adult = people.fields.get("income"), adults(people, p.min_age)
        thrift = people.fields.get("thrift")
        lo, hi = people.own  # an MPI rank's own citizens, or everyone
        self.need = people.full(0, np.float32)
        need = self.need[lo:hi]
        need[...] = p.loan_rate * self._income_factor(income, adult, lo, hi)
        if thrift is not None:
            need *= 1.0 + p.thrift_weight * (1.0 - 2.0 * thrift[lo:hi])
        need[~adult[lo:hi]] = 0.0
        self.rates = np.array([
            p.shock_rate, p.recovery_rate, p.shock_multiplier, p.miss_prob, p.repay_rate,
            p.thrift_weight, p.min_score, p.score_ramp, p.miss_again_prob,
        ], dtype=np.float64)  # fmt: skip
        effects = [p.paid_effect, p.missed_effect, p.default_effect, p.repaid_effect]
        self.effects = np.array(effects, dtype=np.float32) * np.float32(self.weight)
        self.ints = np.array([p.term, p.cycle, p.default_after], dtype=np.int64)
        state = self.state
        shock, left = state["income_shock"], state["instalments_left"]
        share = -1.0 if p.initial_share is None else p.initial_share
        initial_state(
            self.day_key("init", 0), adult, self.need, self.rates, self.ints, share, shock,
            state["shock_flip_day"], state["finance_next_day"], left, lo, hi,
        )  # fmt: skip
        region, n_regions = people.fields.get("region"), self.sim.region_sizes().size
        in_default = state["in_default"]
        counts = initial_levels(region, [left > 0, in_default, shock], n_regions, (lo, hi))
        self.initial = self.sim.add_over_ranks(counts)

    def _income_factor(
        self, income: np.ndarray | None, adult: np.ndarray, lo: int, hi: int
    ) -> np.ndarray:
        """``(median / income)^elasticity`` of the citizens ``lo..hi-1`` (the median is every
        adult earner's, over the MPI ranks), capped; the cap without income (1: no
        population)."""
        p = self.params
        if income is None:
            return np.ones(hi - lo, dtype=np.float64)
        income, adult = income[lo:hi], adult[lo:hi]
        median = self.sim.median_over_ranks(income[adult & (income > 0)])
        with np.errstate(divide="ignore"):
            factor = (median / income.astype(np.float64)) ** p.income_elasticity
        return np.minimum(factor, p.max_income_factor)

    def kernel_values(self, day: int) -> dict:
        return {
            "need": self.need, "keys": self._keys(day), "rates": self.rates,
            "effects": self.effects, "ints": self.ints, **sight_values(self, day),
        }  # fmt: skip

    def _keys(self, day: int) -> np.ndarray:
        """Finance's own day keys (shock, event), then surveillance's for sighting defaults."""
        own = self.day_keys(["shock", "event"], day)
        return np.append(own, np.uint64(sight_key(self, "default", day))).astype(np.uint64)

    def finish(self, day: int) -> None:
        """Stocks (loans active, in default, in shock): net flows to levels."""
        carry(self, day, "stock", self.initial)
