"""Finance (mission row 2): income shocks, loans, instalments, missed payments, defaults.

The parameters; the mechanics are in ``scsim.modules.finance``."""

from __future__ import annotations

from pydantic import Field

from scsim.params import ModuleParams, Probability, Rate


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
