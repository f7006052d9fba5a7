"""Courts (mission row 7): court orders, compliance, the judgement of apologies, and judgment
defaulters.

Seed 004: people are listed for "not carrying out court orders" (judgment defaulters), and one
was listed because a court judged his apology "insincere". A court order arises

- from a loan default (the finance module's ``default_day``): a payment order;
- from a dispute, with the daily hazard ``dispute_rate`` per adult: an order to apologise with
  chance ``apology_share``, else an order to perform.

Each order has a deadline ``deadline_days`` later. By then the citizen complies (pays, performs,
apologises) with a chance whose log-odds are those of ``comply_prob`` (``comply_prob_default``
for payment orders) plus ``conformity_weight x (2 conformity - 1)`` plus ``income_weight x
log(income / median income)`` (the ratio clipped to [1/8, 8]; both terms need the population
module). An apology is sincere with chance ``sincere_prob``; the court misjudges it with chance
``error_rate`` (a sincere apology judged insincere is a *wrong judgement*; an insincere one judged
sincere passes). A citizen who does not comply, or whose apology is judged insincere, becomes a
judgment defaulter: the shared fields ``court_listed`` (and ``court_wrongful`` on a wrong
judgement), which the lists module reads with ``lists.court: true``; score change
``defaulter_effect`` (a record of misconduct; on a wrong judgement it is also filed as
``false_points``, which a won appeal restores). A judgment defaulter performs late, and leaves
the court list, with the daily hazard ``late_rate``. With ``rollout_days`` > 0 the courts join
the list over that many days: each citizen's court joins on a day drawn uniformly from
``0 .. rollout_days - 1`` (stream ``courts.join``, one draw per citizen for the whole run), and a
judgment defaulter judged before their court joined is not put on the list (the court did not
publish yet; the stock of day 0 is listed only where the court listed from day 0), but is a
judgment defaulter all the same and performs late at the same rate. A citizen has at
most one open case: a default while a case is open joins it (counted), and no dispute arises
while a case is open.
Dispute arrivals and late performance are scheduled by their geometric waiting times, so the
hook's common path is two comparisons.

With surveillance on, becoming a judgment defaulter is an act at place ``court``: the
``defaulter_effect`` (and, on a wrong judgement, the false points) reaches the score only if a
pooled source (the courts department) named the citizen. The court's own list
(``court_listed``) is kept either way. Courts' own draws do not change.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from pydantic import Field

from scsim.days import DAY, NEVER
from scsim.kernels.waiting import day_at, next_event_day
from scsim.modules.population_tables import adults
from scsim.modules.stocks import carry
from scsim.modules.surveillance import PLACES, SIGHT, sight, sight_values
from scsim.params import ModuleParams, Probability, Rate
from scsim.protocol import Module, PerAgent, Record, Scalar, Table, emit
from scsim.rng import agent_hash, u_hi, u_lo

NONE, PAY, PERFORM, APOLOGY, LISTED, UNLISTED = range(6)
"""``court_case`` codes: no open case; an order to pay (after a default), to perform, to
apologise; a judgment defaulter awaiting late performance, on the list or judged by a court that
had not joined it yet (``rollout_days``)."""

# causes
C_DEFAULT, C_DISPUTE, C_APOLOGY, C_SINCERE, C_INSINCERE = range(5)
CAUSE_OF_CASE = np.array([-1, C_DEFAULT, C_DISPUTE, C_APOLOGY, -1, -1], dtype=np.int64)
# day keys; settings packed into arrays (one parameter per kind of setting)
K_DECIDE, K_JUDGE = range(2)
(
    P_DISPUTE, P_APOLOGY, P_COMPLY, P_COMPLY_DEFAULT, P_CONFORMITY_W, P_INCOME_W, P_SINCERE,
    P_ERROR, P_LATE, P_MEDIAN,
) = range(10)  # fmt: skip

RECORDS = (
    ("court_orders_from_default", "court orders after a loan default", "orders", "flow"),
    ("court_orders_from_dispute", "court orders after a dispute", "orders", "flow"),
    ("court_orders_joined", "loan defaults joined to an open case", "defaults", "flow"),
    ("court_orders_open", "court orders awaiting their deadline", "orders", "stock"),
    ("court_orders_complied", "court orders carried out in time", "orders", "flow"),
    ("judgment_defaulters_new", "citizens newly listed as judgment defaulters", "citizens", "flow"),
    ("apologies_ordered", "apologies ordered by a court", "apologies", "flow"),
    ("apologies_made", "ordered apologies made", "apologies", "flow"),
    ("apologies_sincere", "sincere apologies made", "apologies", "flow"),
    ("apologies_judged_insincere", "apologies judged insincere", "apologies", "flow"),
    ("apologies_wrongly_judged", "sincere apologies judged insincere", "apologies", "flow"),
    ("court_performed_late", "judgment defaulters who complied late", "citizens", "flow"),
)
"""Courts' records: (name, label, unit, kind). ``court_orders_open`` is kept by the hook as net
flows and carried to levels in ``finish``."""
WRONG = "apologies_wrongly_judged"
"""The record of wrong judgements (a false record: a wrongful listing)."""
HEADLINE = ("judgment_defaulters_new", WRONG)

PLACE = PLACES.index("court")
"""Where a judgment defaulter is recorded (who can see it, with surveillance)."""

INCOME_RATIO_CAP = 8.0
"""The income ratio entering the compliance chance is clipped to [1/8, 8]."""


class CourtsParams(ModuleParams):
    fixed = {
        "*": "courts derives its rates and first disputes from these before day 0; "
        "a timeline cannot change them yet"
    }

    dispute_rate: Rate = Field(
        default=5e-5,
        description="daily chance an adult without an open case gets a court order from a "
        "dispute (assumption: ~1.8 % a year, of the order of China's ~2 civil first-instance "
        "cases per 100 people a year)",
    )
    apology_share: Probability = Field(
        default=0.05,
        description="share of dispute orders that order an apology (assumption; seed 004)",
    )
    deadline_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="days from an order to its deadline (assumption)",
    )
    comply_prob: Probability = Field(
        default=0.8,
        description="chance a dispute order (to perform or apologise) is carried out by the "
        "deadline at conformity 0.5 and median income (assumption)",
    )
    comply_prob_default: Probability = Field(
        default=0.4,
        description="the same for a payment order after a loan default (assumption: "
        "defaulters are short of money)",
    )
    conformity_weight: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description="log-odds of compliance + this x (2 conformity - 1) (needs population)",
    )
    income_weight: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="log-odds of compliance + this x log(income / median income), the ratio "
        "clipped to [1/8, 8] (needs population)",
    )
    sincere_prob: Probability = Field(
        default=0.7, description="chance an ordered apology is sincere (assumption)"
    )
    error_rate: Probability = Field(
        default=0.1,
        description="chance the court misjudges an apology, either way (assumption; seed 004: "
        "an apology judged insincere)",
    )
    late_rate: Rate = Field(
        default=0.003,
        description="daily chance a judgment defaulter performs late and leaves the court "
        "list (assumption: a third within about four months)",
    )
    listing_effect: float = Field(
        default=1.0,
        ge=1,
        le=100,
        description="the public list multiplies a judgment defaulter's daily chance to perform "
        "late by this when the lists module lists judgment defaulters (lists.court: true): the "
        "list's purpose is to make defaulters comply (1: no effect; assumption)",
    )
    rollout_days: int = Field(
        default=0,
        ge=0,
        le=36500,
        description="courts join the list over this many days: each citizen's court joins on a "
        "day drawn uniformly before it and lists only the defaulters it judges from that day on "
        "(0: every court lists from day 0)",
    )
    initial_defaulters: Probability = Field(
        default=0.0,
        description="share of adults who are unresolved judgment defaulters on day 0, from "
        "orders before the run (the stock when a list starts; assumption)",
    )
    defaulter_effect: float = Field(
        default=-30.0,
        ge=-1000,
        le=0,
        description="score change on becoming a judgment defaulter (assumption)",
    )
    min_age: int = Field(
        default=18, ge=0, le=120, description="youngest party to a dispute (needs population)"
    )


@njit(inline="always", cache=True)
def comply_chance(base, i, conformity, income, probs):
    """Chance a citizen carries out an order: log-odds of ``base`` shifted by conformity and
    income (without the population's fields, ``base``)."""
    if base <= 0.0 or base >= 1.0:
        return base
    x = math.log(base / (1.0 - base))
    if conformity.size > 1:
        x += probs[P_CONFORMITY_W] * (2.0 * conformity[i] - 1.0)
    if income.size > 1:
        ratio = income[i] / probs[P_MEDIAN]
        ratio = min(max(ratio, 1.0 / INCOME_RATIO_CAP), INCOME_RATIO_CAP)
        x += probs[P_INCOME_W] * math.log(ratio)
    return 1.0 / (1.0 + math.exp(-x))


@njit(inline="always", cache=True)
def join_day(join_key, rollout, i):
    """Day the citizen's court joins the list: uniform on ``0 .. rollout - 1`` (0 without a
    rollout)."""
    if rollout == 0:
        return 0
    return np.int32(u_hi(agent_hash(join_key, i)) * rollout)


@njit(inline="always", cache=True)
def courts_delta(
    a, rec, ev, court_day, court_case, court_listed, court_wrongful, false_points, in_default,
    default_day, conformity, income, keys, probs, deadline, from_finance, fp_on, effect, join_key,
    rollout, sv_on,
    sv_key, sv_cover, sv_src, sv_region, sv_buf, sv_col, sv_evk, col_court_orders_from_default,
    col_court_orders_from_dispute, col_court_orders_joined, col_court_orders_open,
    col_court_orders_complied, col_judgment_defaulters_new, col_apologies_ordered,
    col_apologies_made, col_apologies_sincere, col_apologies_judged_insincere,
    col_apologies_wrongly_judged, col_court_performed_late, kind_order, kind_joined,
    kind_complied, kind_apology, kind_judged_insincere, kind_defaulted, kind_late,
):  # fmt: skip
    i = a.i
    day = a.day
    due = court_day[i] == day
    # finance's one-byte ``in_default`` first: the two-byte ``default_day`` is read only for
    # citizens in default (memory traffic is most of a hook's cost at 1 M agents)
    fresh = from_finance and in_default[i] and default_day[i] == day
    if not (due or fresh):  # nothing happens today (most agent-days)
        return np.float32(0.0)
    g = a.region
    d = np.float32(0.0)
    if due:
        k = court_case[i]
        h = agent_hash(keys[K_DECIDE], i)
        if k == NONE:  # a dispute ends in an order today
            k = APOLOGY if u_hi(h) < probs[P_APOLOGY] else PERFORM
            court_case[i] = k
            court_day[i] = day_at(day + deadline)
            rec[g, col_court_orders_from_dispute] += 1.0
            rec[g, col_court_orders_open] += 1.0
            if k == APOLOGY:
                rec[g, col_apologies_ordered] += 1.0
            emit(ev, a, kind_order, CAUSE_OF_CASE[k], 0.0, -1)
        elif k >= LISTED:  # late performance, listed or not (unless a won appeal lifted the
            # listing already)
            if court_listed[i] or k == UNLISTED:
                court_listed[i] = False
                court_wrongful[i] = False
                rec[g, col_court_performed_late] += 1.0
                emit(ev, a, kind_late, -1, 0.0, -1)
            court_case[i] = NONE
            court_day[i] = next_event_day(day, u_lo(h), probs[P_DISPUTE])
        else:  # the deadline of an order
            rec[g, col_court_orders_open] -= 1.0
            base = probs[P_COMPLY_DEFAULT] if k == PAY else probs[P_COMPLY]
            complied = u_hi(h) < comply_chance(base, i, conformity, income, probs)
            wrong = False
            if complied and k == APOLOGY:
                h2 = agent_hash(keys[K_JUDGE], i)
                sincere = u_hi(h2) < probs[P_SINCERE]
                misjudged = u_lo(h2) < probs[P_ERROR]
                rec[g, col_apologies_made] += 1.0
                if sincere:
                    rec[g, col_apologies_sincere] += 1.0
                emit(ev, a, kind_apology, C_SINCERE if sincere else C_INSINCERE, 0.0, -1)
                if sincere == misjudged:  # judged insincere
                    complied = False
                    wrong = sincere
                    rec[g, col_apologies_judged_insincere] += 1.0
                    if wrong:
                        rec[g, col_apologies_wrongly_judged] += 1.0
                    emit(
                        ev, a, kind_judged_insincere, C_SINCERE if sincere else C_INSINCERE, 0.0, -1
                    )
            if complied:
                rec[g, col_court_orders_complied] += 1.0
                emit(ev, a, kind_complied, CAUSE_OF_CASE[k], 0.0, -1)
                court_case[i] = NONE
                court_day[i] = next_event_day(day, u_lo(h), probs[P_DISPUTE])
            else:
                court_listed[i] = day >= join_day(join_key, rollout, i)
                court_wrongful[i] = wrong and court_listed[i]
                named = True
                if sv_on:
                    named = sight(
                        a, rec, ev, PLACE, effect, sv_key, sv_cover, sv_src, sv_region, sv_buf,
                        sv_col, sv_evk,
                    )  # fmt: skip
                if named:  # the record reaches the score
                    d = effect
                    if wrong and fp_on:
                        false_points[i] += effect
                court_case[i] = LISTED if court_listed[i] else UNLISTED
                court_day[i] = next_event_day(day, u_lo(h), probs[P_LATE])
                rec[g, col_judgment_defaulters_new] += 1.0
                emit(ev, a, kind_defaulted, CAUSE_OF_CASE[k], d, -1)
    if fresh:
        if court_case[i] == NONE:
            court_case[i] = PAY
            court_day[i] = day_at(day + deadline)
            rec[g, col_court_orders_from_default] += 1.0
            rec[g, col_court_orders_open] += 1.0
            emit(ev, a, kind_order, C_DEFAULT, 0.0, -1)
        else:
            rec[g, col_court_orders_joined] += 1.0
            emit(ev, a, kind_joined, C_DEFAULT, 0.0, -1)
    return d


@njit(parallel=True, cache=True)
def first_disputes(key, adult, hazard, court_day, lo, hi):
    """Day of the first dispute order of each adult of citizens ``lo`` to ``hi`` (stream
    ``courts.init``); ``NEVER`` for others."""
    for i in prange(lo, hi):
        court_day[i] = next_event_day(-1, u_hi(agent_hash(key, i)), hazard) if adult[i] else NEVER


@njit(parallel=True, cache=True)
def initial_stock(
    key, adult, share, late, case, court_listed, court_day, join_key, rollout, lo, hi
):
    """Adults of citizens ``lo`` to ``hi`` who are judgment defaulters on day 0 (stream
    ``courts.stock``), each with its day of late performance; listed where the court lists
    from day 0."""
    for i in prange(lo, hi):
        h = agent_hash(key, i)
        if adult[i] and u_hi(h) < share:
            court_listed[i] = join_day(join_key, rollout, i) == 0
            case[i] = LISTED if court_listed[i] else UNLISTED
            court_day[i] = next_event_day(-1, u_lo(h), late)


class Courts(Module):
    """Court orders from defaults and disputes, compliance, apologies judged, judgment
    defaulters; see the module docstring and docs/odd_courts.md."""
    reach = "own"

    name = "courts"
    phase = "behaviour"
    delta = courts_delta
    offence = True
    fields = (
        PerAgent("court_day", DAY, fill=NEVER, doc="day of the next dispute or deadline"),
        PerAgent("court_case", np.uint8, fill=NONE, doc="open case (NONE, PAY, ... UNLISTED)"),
        PerAgent("court_listed", np.bool_, doc="a judgment defaulter (shared with lists)"),
        PerAgent("court_wrongful", np.bool_, doc="listed on a wrong judgement (shared)"),
        PerAgent("false_points", np.float32, optional=True, doc="false penalties on file"),
        PerAgent("in_default", np.bool_, optional=True, doc="holds a defaulted debt (finance)"),
        PerAgent("default_day", DAY, optional=True, doc="day of the latest default"),
        PerAgent("conformity", np.float32, optional=True, doc="conformity (population)"),
        PerAgent("income", np.float32, optional=True, doc="income (population)"),
        Table("keys", np.uint64, doc="day keys: decide, judge"),
        Table("probs", np.float64, doc="rates, chances, weights and median income (P_*)"),
        Scalar("deadline", np.int64, doc="days from an order to its deadline"),
        Scalar("from_finance", np.bool_, doc="finance is on (defaults make payment orders)"),
        Scalar("fp_on", np.bool_, doc="a wrong judgement is filed as false points"),
        Scalar("effect", np.float32, doc="weighted score change of a judgment defaulter"),
        Scalar("join_key", np.uint64, doc="key of the courts' joining days (stream courts.join)"),
        Scalar("rollout", np.int64, doc="days over which the courts join the list (0: none)"),
        *SIGHT,
    )
    records = tuple(
        Record(n, label, unit, kind, section="courts", false=n == WRONG, headline=n in HEADLINE)
        for n, label, unit, kind in RECORDS
    )
    events = ("order", "joined", "complied", "apology", "judged_insincere", "defaulted", "late")

    @property
    def causes(self) -> tuple[str, ...]:
        return ("default", "dispute", "apology", "sincere", "insincere")

    @property
    def late_hazard(self) -> float:
        """Daily chance a judgment defaulter performs late: ``late_rate``, times
        ``listing_effect`` when the lists module lists judgment defaulters."""
        lists = self.sim.config.lists
        listed = lists is not None and lists.enabled and lists.court
        return min(1.0, self.params.late_rate * (self.params.listing_effect if listed else 1.0))

    def init(self) -> None:
        p, people = self.params, self.sim.people
        adult = adults(people, p.min_age)
        court_day, case = self.state["court_day"], self.state["court_case"]
        lo, hi = people.own  # an MPI rank keeping its own citizens fills only theirs
        first_disputes(self.day_key("init", 0), adult, p.dispute_rate, court_day, lo, hi)
        court_listed = people.ensure("court_listed", np.bool_, False)
        people.ensure("court_wrongful", np.bool_, False)
        self.join_key = self.day_key("join", 0)
        if p.initial_defaulters > 0:
            initial_stock(
                self.day_key("stock", 0), adult, p.initial_defaulters, self.late_hazard, case,
                court_listed, court_day, self.join_key, p.rollout_days, lo, hi,
            )  # fmt: skip
        self.fp_on = p.defaulter_effect != 0
        if self.fp_on:
            people.ensure("false_points", np.float32, 0.0)
        self.from_finance = "default_day" in people.fields
        income, own = people.fields.get("income"), slice(lo, hi)
        median = 1.0
        if income is not None:
            earners = income[own][adult[own] & (income[own] > 0)]
            median = self.sim.median_over_ranks(earners, fewest=2)
        self.probs = np.array([
            p.dispute_rate, p.apology_share, p.comply_prob, p.comply_prob_default,
            p.conformity_weight, p.income_weight, p.sincere_prob, p.error_rate, self.late_hazard,
            median,
        ], dtype=np.float64)  # fmt: skip
        self.effect = np.float32(p.defaulter_effect * self.weight)
        self.initial = np.zeros((self.sim.region_sizes().size, 1))  # no open order on day 0

    def kernel_values(self, day: int) -> dict:
        return {
            "keys": self.day_keys(["decide", "judge"], day), "probs": self.probs,
            "deadline": self.params.deadline_days, "from_finance": self.from_finance,
            "fp_on": self.fp_on, "effect": self.effect, "join_key": self.join_key,
            "rollout": self.params.rollout_days, **sight_values(self, day),
        }  # fmt: skip

    def finish(self, day: int) -> None:
        """The stock of open orders: net flows to levels."""
        carry(self, day, "court_orders_open", self.initial)
