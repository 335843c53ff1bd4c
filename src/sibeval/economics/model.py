"""The payment model: from the measured employment effect to kroner (COWI's budget account).

Pure functions and frozen results, no I/O. Formulas and sources: docs/economics.md.
Year 0 is the programme year (provider cost, the municipality's saving on the ordinary
effort, the payment to the investor); the employment effect yields a saving in years
1..horizon, discounted by (1 + r)^-t.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri  # the standard normal's cdf and quantile (scipy.stats: 0.5 s to import)

from sibeval.results import OneRow

MODES = ("surplus_share", "agreed_price", "reinvestment", "loan")


@dataclass(frozen=True)
class OutcomeType:
    """A further outcome the contract pays for (e.g. education, or wage with supplementary
    benefit), measured like the main one: its participants' share and effect, the agreed price
    per participant with it, the municipality's saving per additional person a year, and the
    effect's standard error for the risk simulation."""

    name: str
    gross_share: float
    effect: float
    price: float
    annual_gain: float
    se: float = 0.0

    def __post_init__(self):
        if not (0 <= self.gross_share <= 1 and -1 <= self.effect <= self.gross_share):
            raise ValueError(f"economics: outcome type '{self.name}': gross share {self.gross_share!r} must be "
                             f"0-1 and the effect {self.effect!r} at most the gross share")
        if self.price < 0 or self.annual_gain < 0:
            raise ValueError(f"economics: outcome type '{self.name}': price and annual_gain must be 0 kr or more")


@dataclass(frozen=True)
class Inputs:
    """Assumptions (cohort file `economics:`) and measured inputs (effects.csv).

    effect: additional share in ordinary employment (participants minus controls), e.g. 0.18.
    gross_share: participants' share in ordinary employment (e.g. 0.345).
    provider_cost: provider's cost per participant (kr, present value).
    effort_cost: the municipality's ordinary employment effort per participant (kr).
    effort_saving_share: share of the ordinary effort the municipality no longer spends.
    saved_benefits / extra_tax: municipal saving per additional person in employment per year.
    discount_rate, horizon: years 1..horizon discounted at discount_rate.
    constant_years, decay: the effect is constant for constant_years, then falls by decay a year.
    investor_share: the investor's share of the surplus (0.5: split equally).
    effect_ci: the effect's confidence interval (low, high), or None.
    n_participants: the cohort's size: the investor is paid for the participants actually in
        employment, whose share varies around the expected one by sampling (binomial).
    cap_payment: the most the municipality pays per participant (kr; 0: no cap, its budget).
    cap_return / floor_return: the investor's return is kept at or below / at or above these
        ("rimelig forrentning"; a floor on repayment, e.g. -0.2: at least 80 % of the cost back).
    decay_sd: the uncertainty of the decay (standard deviation) in the risk simulation.
    payment_months: months from the investment to the payment (for the annualised return).
    stages: the contract's payment stages ((months after the programme, share of the price), ...),
        the first at the outcome month: a later stage pays only for those still in employment
        (expected: (1 - decay) ^ (months since the first stage / 12)). Empty: one payment.
    mode: the form of contract (MODES): surplus_share (the catalogue's: the municipality pays the
        investor the cost plus its share of the surplus), agreed_price (a fixed price per
        participant in employment, `price`), reinvestment (Alternativ 1: a fund is repaid at
        most its cost and the surplus stays with the municipality to reinvest) or loan
        (Alternativ 2: the investor lends the provider the cost at `loan_rate`, the municipality
        pays the provider, who bears the risk).
    price: the agreed price per participant in employment (mode agreed_price), kr.
    evaluator_cost: the municipality's evaluator and contract costs per participant (kr): they
        reduce the surplus to share.
    co_financing: the provider's own share of the cost (Viborg/Væksthuset: 0.5): it finances
        that share and receives the same share of the payments (or borrows less, mode loan).
    loan_rate: the investor's annual interest on the loan (mode loan).
    outcome_types: further outcomes the contract pays for, each with its own price and saving
        (OutcomeType; a person is counted under one outcome only).
    job_retention: the share of the participants in employment at the first stage who are
        still in employment a year later (a staged contract's later stages pay only for them);
        None: 1 - decay. An assumption about persons' jobs, not the effect's profile (the effect
        on the group may stay flat while persons change jobs); the risk simulation draws it with
        standard deviation job_retention_sd: the risk that fewer stay in work lies with whoever
        is paid by stage.
    """

    effect: float
    gross_share: float
    provider_cost: float
    effort_cost: float
    effort_saving_share: float = 0.5
    saved_benefits: float = 0.0
    extra_tax: float = 0.0
    discount_rate: float = 0.035
    horizon: int = 10
    constant_years: int = 2
    decay: float = 0.15
    investor_share: float = 0.5
    effect_ci: tuple[float, float] | None = None
    alpha: float = 0.05
    n_participants: int | None = None
    cap_payment: float = 0.0
    cap_return: float | None = None
    floor_return: float | None = None
    decay_sd: float = 0.05
    payment_months: int = 12
    stages: tuple = ()
    mode: str = "surplus_share"
    price: float = 0.0
    evaluator_cost: float = 0.0
    co_financing: float = 0.0
    loan_rate: float = 0.0
    outcome_types: tuple = ()
    job_retention: float | None = None
    job_retention_sd: float = 0.05

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"economics: contract mode {self.mode!r} is not known; use one of {', '.join(MODES)}")
        if self.mode == "agreed_price" and not self.price > 0:
            raise ValueError("economics: contract mode agreed_price needs the price per participant in "
                             f"employment (contract.price, kr), got {self.price!r}")
        if not 0 <= self.co_financing < 1:
            raise ValueError(f"economics: co_financing={self.co_financing!r} must be a share from 0 up to, "
                             "not including, 1 (the provider's own share of its cost)")
        if self.evaluator_cost < 0 or not 0 <= self.loan_rate < 1:
            raise ValueError("economics: evaluator_cost must be 0 kr or more and loan_rate a share from 0 to 1")
        if self.gross_share + sum(o.gross_share for o in self.outcome_types) > 1 + 1e-9:
            raise ValueError("economics: the outcome types' gross shares add up to more than 1; each "
                             "participant is paid for one outcome only")
        for name in ("effect", "gross_share", "effort_saving_share", "decay", "investor_share"):
            v = getattr(self, name)
            if not np.isfinite(v) or not -1 <= v <= 1:
                raise ValueError(f"economics: {name}={v!r} must be a share between -1 and 1 "
                                 "(e.g. 0.18 for 18 percentage points)")
        if self.gross_share <= 0:
            raise ValueError("economics: gross_share must be above 0 (nobody in employment: no "
                             "payment per person in employment can be set)")
        if self.horizon < 1:
            raise ValueError("economics: horizon must be at least 1 year")
        if self.job_retention is not None and not 0 < self.job_retention <= 1:
            raise ValueError(f"economics: job_retention={self.job_retention!r} must be a share above 0 and "
                             "at most 1 (of those in employment, the share still in employment a year later)")
        if self.decay >= 1:
            raise ValueError(f"economics: decay={self.decay!r} must be below 1 (an effect that ends after the "
                             "flat years is horizon = constant_years)")
        if self.stages:
            shares = [s for _, s in self.stages]
            months = [m for m, _ in self.stages]
            if abs(sum(shares) - 1) > 1e-9 or min(shares) < 0:
                raise ValueError(f"economics: the stages' shares {shares} must be 0 or more and add up to 1")
            if months != sorted(months) or len(set(months)) != len(months):
                raise ValueError(f"economics: the stages' months {months} must increase "
                                 "(the first is the outcome month)")
        if self.effect > self.gross_share:
            raise ValueError(f"economics: the effect {self.effect:g} exceeds the participants' gross share "
                             f"{self.gross_share:g}: the control share (gross share minus effect) would be "
                             "negative; give the gross share as the participants' share in employment")

    @property
    def control_share(self) -> float:
        return self.gross_share - self.effect

    @property
    def other_payment(self) -> float:
        """The expected payment per participant for the further outcome types (kr)."""
        return float(sum(o.price * o.gross_share for o in self.outcome_types))

    @property
    def other_annual_gain(self) -> float:
        """The municipality's yearly saving from the further outcome types' effects (kr per participant)."""
        return float(sum(o.effect * o.annual_gain for o in self.outcome_types))

    @property
    def financed_share(self) -> float:
        """The investor's share of the provider's cost (the rest is the provider's own)."""
        return 1.0 - self.co_financing

    @property
    def annual_gain(self) -> float:
        return self.saved_benefits + self.extra_tax


def effect_profile(inp: Inputs, decay=None) -> np.ndarray:
    """The effect's relative size in years 1..horizon: 1 for constant_years, then (1-decay)^k
    (`decay` a column of draws gives one row per draw)."""
    d = inp.decay if decay is None else decay
    t = np.arange(1, inp.horizon + 1)
    return np.where(t <= inp.constant_years, 1.0, (1 - d) ** np.maximum(t - inp.constant_years, 0))


def discount_factors(inp: Inputs) -> np.ndarray:
    return (1 + inp.discount_rate) ** -np.arange(1, inp.horizon + 1, dtype=float)


def se_of_ci(low: float, high: float, alpha: float) -> float:
    """The standard error a normal (1 - alpha) confidence interval implies."""
    return (high - low) / (2 * ndtri(1 - alpha / 2))


def effect_se(inp: Inputs) -> float:
    """The effect's standard error implied by its confidence interval (normal)."""
    if inp.effect_ci is None:
        raise ValueError("economics: risk needs the effect's confidence interval (effect_ci)")
    return se_of_ci(*inp.effect_ci, inp.alpha)


def annuity(inp: Inputs, decay: float | None = None) -> float:
    """Present value of one additional person in employment at the profile (person-years)."""
    return float((effect_profile(inp, decay) * discount_factors(inp)).sum())


@dataclass(frozen=True)
class Account:
    """Budget account per participant (kr, present value) and its split between the parties.

    investor_share: the investor's gain (kr): its share of what is paid over the cost (a loan:
    the interest); investor_return: on the investor's own money; provider_margin: the
    provider's gain (co-financing: its share; a loan: the payment less the cost and interest).
    """

    effort_saving: float
    benefits_saving: float
    tax_gain: float
    other_saving: float
    municipal_saving: float
    provider_cost: float
    evaluator_cost: float
    surplus: float
    investor_share: float
    payment: float
    investor_return: float
    provider_margin: float
    municipality_account: float
    payment_per_employed: float

    # rows of a contract feature not in use (0) are left out of the table
    OPTIONAL = ("other_saving", "evaluator_cost", "provider_margin")

    def to_frame(self) -> pd.DataFrame:
        d = {k: v for k, v in asdict(self).items() if k not in self.OPTIONAL or v != 0}
        return pd.DataFrame({"item": list(d), "value": list(d.values())})


def account(inp: Inputs) -> Account:
    """COWI's Table 1-2: saving by component, cost, surplus, the parties' shares, payment."""
    k = annuity(inp)
    effort = inp.effort_saving_share * inp.effort_cost
    benefits = inp.effect * inp.saved_benefits * k
    tax = inp.effect * inp.extra_tax * k
    other = inp.other_annual_gain * k
    saving = effort + benefits + tax + other
    surplus = saving - inp.provider_cost - inp.evaluator_cost
    if inp.mode == "agreed_price":           # the agreed (full) price, later stages for those still in work
        planned = inp.price * float(stage_factor(inp)) * inp.gross_share + inp.other_payment
    elif inp.mode == "reinvestment":          # the fund is repaid at most its cost, shares a loss
        planned = inp.provider_cost + min(inp.investor_share * surplus, 0.0)
    else:
        planned = inp.provider_cost + inp.investor_share * surplus
    payment = contract_payment(inp, planned)
    investor, ret, provider = shares(inp, payment)
    return Account(effort, benefits, tax, other, saving, inp.provider_cost, inp.evaluator_cost, surplus,
                   investor, payment, ret, provider, saving - inp.evaluator_cost - payment,
                   (payment - inp.other_payment) / inp.gross_share)


def shares(inp: Inputs, payment):
    """The investor's gain (kr), its return and the provider's margin (kr) for a payment per
    participant (arrays too). The investor finances (1 - co_financing) of the cost: it is paid
    that share of the payment; a loan is repaid with interest at payment_months whatever the
    result, and the provider keeps (or loses) the rest."""
    cost, f = inp.provider_cost, inp.financed_share
    payment = np.asarray(payment, dtype=float)
    if inp.mode == "loan":
        ret = (1 + inp.loan_rate) ** (inp.payment_months / 12) - 1
        investor = np.full(payment.shape, f * cost * ret)
        out = investor, np.full(payment.shape, ret), payment - cost - investor
    else:
        ret = (payment - cost) / cost if cost else np.full(payment.shape, np.nan)
        out = f * (payment - cost), ret, (1 - f) * (payment - cost)
    return tuple(float(x) if np.ndim(x) == 0 else x for x in out)


def contract_price(inp: Inputs) -> float:
    """The expected payment per participant in employment at the first stage the contract fixes
    (the agreed price, or the plan's; a staged contract's full price times its stage factor)."""
    return inp.price * float(stage_factor(inp)) if inp.mode == "agreed_price" else account(inp).payment_per_employed


def full_price(inp: Inputs) -> float:
    """The contract's price per participant in employment at every stage (a staged contract's
    expected payment per participant in employment at the first stage is less: its later
    stages are paid only for those still in employment)."""
    return contract_price(inp) / float(stage_factor(inp))


def paid(inp: Inputs, employed, keep=None, others=None):
    """The contract's payment per participant (kr) when a share `employed` of the participants
    is in employment at the outcome month, a yearly share `keep` of them stays in work (a staged
    contract pays later stages only for those; the plan's if None) and the further outcome types' shares are
    `others` (the expected ones if None): prices as agreed, within the caps and floor."""
    other = inp.other_payment if others is None else sum(o.price * g for o, g in zip(inp.outcome_types, others))
    ratio = 1.0 if keep is None else retention_payment_ratio(inp, keep)
    return contract_payment(inp, contract_price(inp) * np.asarray(employed) * ratio + other)


def investor_irr(inp: Inputs, payment, keep=None):
    """The investor's annualised internal rate of return (arrays too): it invests at month 0 and
    is paid at payment_months, a staged contract's later stages that many months later, each
    stage the share its price and the retention `keep` give. A loan earns its rate."""
    payment = np.asarray(payment, dtype=float)
    if inp.mode == "loan":
        return np.full(payment.shape, inp.loan_rate) if payment.ndim else inp.loan_rate
    d = np.asarray(yearly_retention(inp) if keep is None else keep, dtype=float) * np.ones(payment.shape)
    stages = inp.stages or ((0, 1.0),)
    m1 = stages[0][0]
    weights = [s * retention(replace(inp, stages=stages), m, d) for m, s in stages]
    total = sum(weights)
    t = np.array([inp.payment_months + m - m1 for m, _ in stages], dtype=float) / 12
    a = np.stack([w / total for w in weights]) * (payment / inp.provider_cost if inp.provider_cost else np.nan)
    # sum_k a_k exp(-x t_k) = 1 in x = log(1 + irr): decreasing in x, bisection on [-20, 20]
    lo, hi = np.full(payment.shape, -20.0), np.full(payment.shape, 20.0)
    for _ in range(80):
        mid = (lo + hi) / 2
        above = (a * np.exp(-mid * t[:, None] if payment.ndim else -mid * t)).sum(axis=0) > 1
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    irr = np.where(payment > 0, np.expm1((lo + hi) / 2), -1.0)
    irr = np.where(np.isfinite(payment) & (inp.provider_cost > 0), irr, np.nan)   # nothing invested: no rate
    return float(irr) if irr.ndim == 0 else irr


def yearly_retention(inp: Inputs) -> float:
    """The planned share of those in employment at the first stage still in employment a year later."""
    return 1 - inp.decay if inp.job_retention is None else inp.job_retention


def retention(inp: Inputs, months, keep=None):
    """The expected share of those in employment at the first stage still in employment at
    `months`, at a yearly retention `keep` (the plan's if None; arrays too)."""
    k = np.asarray(yearly_retention(inp) if keep is None else keep, dtype=float)
    return np.minimum(k, 1.0) ** ((months - inp.stages[0][0]) / 12)


def stage_factor(inp: Inputs, keep=None):
    """The expected share of the full price paid per participant in employment at the first
    stage: sum of share x retention at the stage's month (1 without stages)."""
    if not inp.stages:
        return 1.0 if keep is None or np.ndim(keep) == 0 else np.ones(np.shape(keep))
    return sum(s * retention(inp, m, keep) for m, s in inp.stages)


def retention_payment_ratio(inp: Inputs, keep):
    """The payment at a yearly retention `keep` relative to the plan's (a staged contract pays
    less when fewer stay in work: a risk borne by whoever is paid by stage)."""
    return stage_factor(inp, keep) / stage_factor(inp)


def stage_payments(inp: Inputs) -> pd.DataFrame:
    """The contract's payments by stage: months, share of the price, the price per participant
    in employment at that stage, the expected share still in employment, and the expected
    payment per participant (the stages add up to the plan's payment)."""
    stages = inp.stages or ((None, 1.0),)
    full = full_price(inp)
    rows = []
    for m, s in stages:
        kept = 1.0 if m is None else float(retention(inp, m))
        rows.append({"stage": len(rows) + 1, "months": m, "price_share": s, "price": full * s,
                     "retention": kept, "expected_payment": full * s * inp.gross_share * kept})
    return pd.DataFrame(rows)


def contract_payment(inp: Inputs, payment):
    """A payment per participant within the contract's caps and floor (kr; arrays too)."""
    hi = np.inf
    if inp.cap_payment:
        hi = inp.cap_payment
    cap_return = inp.cap_return
    if inp.mode == "reinvestment":                 # the fund is repaid at most its cost
        cap_return = min(0.0, cap_return if cap_return is not None else 0.0)
    if cap_return is not None:
        hi = min(hi, inp.provider_cost * (1 + cap_return))
    lo = -np.inf if inp.floor_return is None else inp.provider_cost * (1 + inp.floor_return)
    out = np.clip(payment, lo, hi)
    return float(out) if np.ndim(out) == 0 else out


def simulate(inp: Inputs, draws: int = 20_000, seed: int = 20221101) -> pd.DataFrame:
    """One seeded simulation of the contract that every party's risk reads: the effect (normal,
    its CI's standard error), the cohort's realised share in employment (binomial, n
    participants), the decay (normal, decay_sd, kept in 0-0.99), a staged contract's job
    retention (normal, job_retention_sd, kept in 0.01-1), each further outcome type's effect
    and realised share likewise; the payment is the contract's (`paid`). Columns per
    draw: effect, decay, employed_share, saving, surplus, payment, municipality_account,
    investor_return, investor_return_annual (the internal rate), provider_margin."""
    se = effect_se(inp)
    rng = np.random.default_rng(seed)
    n = inp.n_participants

    def realised(share):
        p = np.clip(share, 0.0, 1.0)
        return rng.binomial(n, p) / n if n else p

    e = rng.normal(inp.effect, se, draws)
    d = np.clip(rng.normal(inp.decay, inp.decay_sd, draws), 0.0, 0.99)
    g = realised(inp.control_share + e)
    k = (effect_profile(inp, d[:, None]) * discount_factors(inp)).sum(axis=1)
    saving = inp.effort_saving_share * inp.effort_cost + e * inp.annual_gain * k
    others = []
    for o in inp.outcome_types:
        eo = rng.normal(o.effect, o.se, draws)
        others.append(realised(o.gross_share - o.effect + eo))
        saving = saving + eo * o.annual_gain * k
    keep = np.clip(rng.normal(yearly_retention(inp), inp.job_retention_sd, draws), 0.01, 1.0) if inp.stages \
        else None
    payment = paid(inp, g, keep, others)
    _, ret, provider = shares(inp, payment)
    return pd.DataFrame({"effect": e, "decay": d, "employed_share": g, "saving": saving,
                         "surplus": saving - inp.provider_cost - inp.evaluator_cost, "payment": payment,
                         "municipality_account": saving - inp.evaluator_cost - payment, "investor_return": ret,
                         "investor_return_annual": investor_irr(inp, payment, keep), "provider_margin": provider})


def parties(sim: pd.DataFrame) -> pd.DataFrame:
    """The three parties' risk from one simulation: mean, 5th/50th/95th percentile and the
    probability of a loss of the municipality's account (kr per participant), the investor's
    return (total, and annualised as an internal rate when that differs) and the provider's
    margin (kr per participant)."""
    rows = []
    for party, col in (("municipality", "municipality_account"), ("investor", "investor_return"),
                       ("investor_annual", "investor_return_annual"), ("provider", "provider_margin")):
        v = sim[col].to_numpy()
        if party == "investor_annual" and np.allclose(v, sim["investor_return"]):
            continue                              # paid once after 12 months: the total is the annual return
        rows.append({"party": party, "mean": float(v.mean()),
                     "p05": float(np.quantile(v, 0.05)), "p50": float(np.quantile(v, 0.5)),
                     "p95": float(np.quantile(v, 0.95)), "probability_loss": float((v < -1e-9).mean())})
    return pd.DataFrame(rows)



def differentiated_payments(payment_per_employed: float, weights, gross_shares) -> pd.Series:
    """Payment per person in employment by subgroup: p_g = p * (1 - (g_g - g_bar)).

    g_bar is the participant-weighted mean gross share, so sum(w_g * p_g) = p. A subgroup whose
    gross share is x points above the average is paid x % less per person in employment.
    """
    w = pd.Series(weights, dtype=float)
    g = pd.Series(gross_shares, dtype=float).reindex(w.index)
    w = w / w.sum()
    g_bar = float((w * g).sum())
    return payment_per_employed * (1 - (g - g_bar))


def provider_margins(prices, gross_shares, provider_cost: float) -> pd.Series:
    """The provider's expected margin per participant by group: price x gross share - cost."""
    return pd.Series(prices, dtype=float) * pd.Series(gross_shares, dtype=float) - provider_cost


def selection_neutral_prices(payment: float, gross_shares) -> pd.Series:
    """Prices per participant in employment that leave the provider the same expected margin
    on every group (p_g = P / g_g: the payment per participant is P whichever group he is
    from), so taking the participants most likely to find work anyway pays no better. The
    catalogue's Table 4 prices still leave +35,856 kr on an experienced and -4,304 kr on an
    inexperienced participant."""
    return payment / pd.Series(gross_shares, dtype=float)


@dataclass(frozen=True)
class CohortTotals(OneRow):
    """An agreed price per participant in employment applied to a cohort of n participants."""

    participants: int
    price: float
    expected_employed: float
    expected_payment: float
    contract_value: float
    employed_for_investor: int | None          # None: not reachable with this cohort and price
    employed_for_municipality: float | None


def cohort_totals(inp: Inputs, participants: int, price: float | None = None) -> CohortTotals:
    """Totals of a contract at `price` per participant in employment (the model's price if
    None) for `participants`: the expected payment, the contract value if everyone finds work
    (the ceiling, for the procurement threshold: every participant in employment at every
    stage, at the full price), the number in employment the investor needs
    to recover the provider's cost, and the number at which the municipality's account is 0
    (its saving grows with the effect: employed over the control share)."""
    import math

    if participants < 1:
        raise ValueError(f"economics: participants={participants!r} must be at least 1")
    p = contract_price(inp) if price is None else float(price)
    if p <= 0:
        raise ValueError(f"economics: price={price!r} must be above 0 kr")
    k, effort = annuity(inp), inp.effort_saving_share * inp.effort_cost
    # M(x) = effort + (x/n - c) * gain * K - p * x/n = 0  ->  x/n = (c * gain * K - effort) / (gain * K - p)
    slope = inp.annual_gain * k - p
    share = (inp.control_share * inp.annual_gain * k - effort) / slope if slope else float("nan")
    investor = math.ceil(inp.provider_cost * participants / p - 1e-9)
    if _capped(inp):       # the first count whose capped payment covers the cost, if any
        investor = next((x for x in range(participants + 1)
                         if participants * contract_payment(inp, p * x / participants + inp.other_payment)
                         >= participants * inp.provider_cost - 1e-6), participants + 1)
    # the municipality gains with each person employed only while the price is below the saving
    municipality = share * participants if slope > 0 else float("nan")
    return CohortTotals(participants, p, inp.gross_share * participants, p * inp.gross_share * participants,
                        contract_payment(inp, p / float(stage_factor(inp))) * participants,
                        investor if investor <= participants else None,
                        municipality if 0 <= municipality <= participants else None)


@dataclass(frozen=True)
class BreakEven:
    """Break-even points (the value at which the named account is exactly zero).

    investor_gross_share: gross share at which payments per employed equal the provider cost.
    investor_effect: the same, as an effect (investor_gross_share - control share).
    surplus_effect: effect at which the municipal saving equals the provider cost.
    municipality_effect: effect at which the municipality's account (saving - payment per
        employed x gross share) is zero.
    municipality_decay / municipality_savings_share: decay and effort-saving share at which the
        municipality's account is zero (payment fixed: the gross share is measured at 2 months).
    """

    investor_gross_share: float
    investor_effect: float
    surplus_effect: float
    municipality_effect: float
    municipality_decay: float
    municipality_savings_share: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"item": list(asdict(self)), "value": list(asdict(self).values())})


def warnings(inp: Inputs) -> list[str]:
    """What the user must know before reading the account (printed by the CLI, logged by the
    workflow): a loss shared as if it were a surplus, savings left at 0."""
    out = []
    acc = account(inp)
    if acc.surplus < 0 and inp.mode in ("surplus_share", "reinvestment"):
        out.append(f"the budget surplus is negative ({acc.surplus:,.0f} kr per participant): the municipality "
                   f"saves less than the provider's cost, and with investor_share {inp.investor_share:g} the "
                   f"investor bears {inp.investor_share:.0%} of the loss (paid {acc.payment:,.0f} kr for a cost "
                   f"of {inp.provider_cost:,.0f} kr)")
    for name, what in (("saved_benefits", "benefits saved"), ("extra_tax", "extra municipal tax")):
        if getattr(inp, name) == 0:
            out.append(f"{name} is 0: no {what} per additional person in employment is counted; give it "
                       "(kr per year) or the saving and the payment are understated")
    if inp.outcome_types and acc.payment_per_employed < 0:
        out.append(f"the further outcome types' prices ({inp.other_payment:,.0f} kr per participant expected) exceed "
                   f"the payment ({acc.payment:,.0f} kr): the price per participant in employment is negative")
    if inp.mode == "loan":
        out.append("contract mode loan (the catalogue's Alternativ 2): the provider repays the loan whatever the "
                   "result and bears the full risk, which the catalogue calls hardly realistic in practice")
    if inp.mode == "reinvestment":
        out.append("contract mode reinvestment (the catalogue's Alternativ 1): the municipality's account is the "
                   "surplus it intends to reinvest; Kammeradvokaten: a declaration of intent, not legally binding")
    return out


def _gain_per_effect(inp: Inputs, decay=None) -> tuple[float, float]:
    """The saving per unit of the main effect over the horizon (kr), and the further outcome
    types' saving (kr), at `decay`."""
    k = annuity(inp, decay)
    return inp.annual_gain * k, inp.other_annual_gain * k


def break_even(inp: Inputs) -> BreakEven:
    acc = account(inp)
    p = acc.payment_per_employed
    effort = inp.effort_saving_share * inp.effort_cost
    per_effect, other = _gain_per_effect(inp)
    # the investor (a loan: the provider, who repays the interest) recovers its cost and interest
    interest = acc.investor_share if inp.mode == "loan" else 0.0
    g_inv = (inp.provider_cost + interest - inp.other_payment) / p
    e_surplus = (inp.provider_cost + inp.evaluator_cost - effort - other) / per_effect if per_effect else np.nan
    slope = per_effect - p
    e_mun = (p * inp.control_share + inp.other_payment + inp.evaluator_cost - effort - other) / slope \
        if slope else np.nan
    if _capped(inp):
        # the closed forms hold while no cap or floor binds at the break-even: else the contract's
        # own answer (solve, the prices held), or none when no effect reaches it
        g_inv = _checked(inp, g_inv, "investor_return", 0.0 if inp.mode != "loan" else None)
        e_mun = _checked(inp, e_mun + inp.control_share, "municipality_account", 0.0) - inp.control_share

    def m_decay(d):            # the account at decay d, the payment as planned
        per, oth = _gain_per_effect(inp, d)
        return effort + inp.effect * per + oth - inp.evaluator_cost - acc.payment

    d_mun = _first_root(m_decay, inp.decay, -0.99, 0.999999)
    s_mun = (acc.payment + inp.evaluator_cost - acc.benefits_saving - acc.tax_gain - acc.other_saving) \
        / inp.effort_cost if inp.effort_cost else np.nan
    return BreakEven(g_inv, g_inv - inp.control_share, e_surplus, e_mun, d_mun, s_mun)


def _capped(inp: Inputs) -> bool:
    """Whether the contract has a cap or floor (or is a reinvestment, repaid at most its cost)."""
    return bool(inp.cap_payment) or inp.cap_return is not None or inp.floor_return is not None \
        or inp.mode == "reinvestment"


def _checked(inp: Inputs, gross: float, target: str, value: float | None) -> float:
    """A closed-form break-even gross share checked against the contract: kept when the contract
    gives `target` = `value` there, else solved for under the contract; NaN when unreachable."""
    if value is None or not np.isfinite(gross):
        return gross
    c = inp.control_share
    world = replace(inp, effect=gross - c, gross_share=gross) if 0 < gross <= 1 else None
    if world is not None and abs(_contract_results(inp, world)[target] - value) < 1e-6 * max(1.0, inp.provider_cost):
        return gross
    try:
        return solve(inp, "effect", target, value) + c
    except ValueError:
        return np.nan


def _first_root(f, start: float, lo: float, hi: float) -> float:
    """The root of f nearest `start` in the direction that leads from f(start) towards 0 (f
    need not be monotone); NaN if none in [lo, hi]."""
    grid = np.linspace(lo, hi, 801)
    v = np.array([f(x) for x in grid])
    here = f(start)
    ahead = grid > start if here > 0 else grid < start
    change = np.flatnonzero((np.sign(v[:-1]) != np.sign(v[1:])) & (ahead[:-1] | ahead[1:]))
    if not len(change):
        return np.nan
    i = change[0] if here > 0 else change[-1]
    from scipy.optimize import brentq  # here: the report reads this module, and solves nothing

    return float(brentq(f, grid[i], grid[i + 1], xtol=1e-12))


def cash_flow(inp: Inputs) -> pd.DataFrame:
    """The municipality's account by year (discounted), and its cumulative sum: year 0 the
    saving on the ordinary effort less the payment and the evaluator's cost."""
    acc = account(inp)
    prof = effect_profile(inp)
    disc = discount_factors(inp)
    years = np.arange(0, inp.horizon + 1)
    effect = np.r_[0.0, inp.effect * prof]
    per_year = inp.effect * inp.annual_gain + inp.other_annual_gain
    saving = np.r_[acc.effort_saving, per_year * prof]
    pv = saving * np.r_[1.0, disc]
    pay = np.r_[acc.payment + inp.evaluator_cost, np.zeros(inp.horizon)]
    flow = pv - pay
    return pd.DataFrame({"year": years, "effect": effect, "saving": saving,
                         "saving_present_value": pv, "payment": pay,
                         "net_present_value": flow, "cumulative": np.cumsum(flow)})


def years_to_break_even(inp: Inputs) -> float:
    """First year whose cumulative municipal account is >= 0 (NaN: not within the horizon)."""
    cf = cash_flow(inp)
    ok = cf.loc[cf["cumulative"] >= -1e-9, "year"]
    return float(ok.iloc[0]) if len(ok) else np.nan


def risk(inp: Inputs, sim: pd.DataFrame | None = None) -> pd.DataFrame:
    """Accounts at the effect's CI bounds and the probabilities of losses.

    Rows ci_low/estimate/ci_high: the accounts under the contract at that effect (the control
    share held: the participants in employment and the payment move with the effect). Rows p_*:
    `effect` is the break-even effect and `probability` the chance of the loss: from the
    simulation `sim` (`simulate`: the one every risk figure reads) when given, else normal tail
    probabilities of the effect (the investor's adding the cohort's sampling variance g(1-g)/n).
    """
    se = effect_se(inp)
    lo, hi = inp.effect_ci
    rows = []
    for label, e in (("ci_low", lo), ("estimate", inp.effect), ("ci_high", hi)):
        world = replace(inp, effect=e, gross_share=inp.control_share + e)
        a = account(world)
        pay = paid(inp, world.gross_share)
        investor, ret, _ = shares(inp, pay)
        rows.append({"point": label, "effect": e, "surplus": a.surplus,
                     "municipality_account": a.municipal_saving - inp.evaluator_cost - pay,
                     "investor_profit": investor, "investor_return": ret})
    be = break_even(inp)
    if sim is not None:
        p_mun = float((sim["municipality_account"] < -1e-9).mean())
        p_inv = float((sim["investor_return"] < -1e-9).mean())
        p_sur = float((sim["surplus"] < -1e-9).mean())
    else:
        per_effect = inp.annual_gain * annuity(inp)
        p_mun = ndtr((be.municipality_effect - inp.effect) / se)
        p_mun = p_mun if contract_price(inp) < per_effect else 1 - p_mun   # the municipality gains with the effect
        n = inp.n_participants
        sd_paid = float(np.hypot(se, np.sqrt(inp.gross_share * (1 - inp.gross_share) / n))) if n else se
        p_inv = 0.0 if inp.mode == "loan" else ndtr((be.investor_effect - inp.effect) / sd_paid)
        p_sur = ndtr((be.surplus_effect - inp.effect) / se)
    for label, e, p in (("p_municipality_negative", be.municipality_effect, p_mun),
                        ("p_investor_loses", be.investor_effect, p_inv),
                        ("p_surplus_negative", be.surplus_effect, p_sur)):
        rows.append({"point": label, "effect": e, "probability": float(p)})
    out = pd.DataFrame(rows)
    out.insert(2, "se", se)
    return out


# the kind of each quantity the economics tables name (as a row or a column), for display:
# shares and rates as percentages, whole years as years; every other amount is kroner
SHARES = frozenset({
    "effect", "gross_share", "effort_saving_share", "discount_rate", "decay",
    "effect_ci_low", "effect_ci_high", "alpha", "investor_return", "investor_gross_share", "investor_effect",
    "surplus_effect", "municipality_effect", "municipality_decay", "municipality_savings_share", "annual_gain",
    "se", "probability", "participant_share", "probability_loss", "investor", "investor_annual",
    "decay_sd", "cap_return", "floor_return", "co_financing", "loan_rate", "price_share", "retention",
    "job_retention", "job_retention_sd", "p_municipality_negative", "p_investor_loses",
})
# whole years, and other whole numbers written plainly (a seed of 20221101 is not 20.221.101)
YEARS = frozenset({"price_year", "horizon", "constant_years", "year", "payment_months", "seed"})
COUNTS = frozenset({"n", "outcomes", "n_participants", "level", "stage", "months"})
# the investor's share of the surplus is an input (a share); in the account it is kroner
INPUT_SHARES = frozenset({"investor_share"})


def kind(name: str, table: str = "") -> str | None:
    """'share', 'years', 'count' or None (kroner) for a quantity of an economics table
    (`table`: inputs, account, ...)."""
    name = name.split(":")[0]                  # a further outcome type's input: price:education
    if name in SHARES or (table == "inputs" and name in INPUT_SHARES):
        return "share"
    return "years" if name in YEARS else "count" if name in COUNTS else None


SENSITIVITY = {
    "effect": ("effect", lambda v: (v * 0.5, v * 1.5)),
    "decay": ("decay", lambda v: (0.05, 0.30)),
    "effort_saving_share": ("effort_saving_share", lambda v: (v * 0.5, min(1.0, v * 1.5))),
    "discount_rate": ("discount_rate", lambda v: (0.02, 0.06)),
    "horizon": ("horizon", lambda v: (max(1, v // 2), min(v * 2, 60))),    # the workbook's 60 years
    "provider_cost": ("provider_cost", lambda v: (v * 0.8, v * 1.2)),
    "annual_gain": ("annual_gain", lambda v: (0.8, 1.2)),
}


def _vary(inp: Inputs, name: str, value) -> Inputs:
    if name == "annual_gain":
        return replace(inp, saved_benefits=inp.saved_benefits * value, extra_tax=inp.extra_tax * value)
    if name == "horizon":
        return replace(inp, horizon=int(value))
    return replace(inp, **{name: value})


def sensitivity(inp: Inputs) -> pd.DataFrame:
    """One-way sensitivity: each input at a low and a high value, the contract held: the price
    per participant in employment is the plan's, so the municipality pays price x gross share,
    and a lower effect means fewer participants in employment and less to pay (the control
    share is held, as in `risk`).

    Columns: parameter, base, low, high, municipality_low/high (municipality's account under
    the contract), surplus_low/high.
    """
    rows = []
    for name, (attr, bounds) in SENSITIVITY.items():
        v = 1.0 if name == "annual_gain" else getattr(inp, attr)
        lo, hi = bounds(v)
        r = {"parameter": name, "base": v, "low": lo, "high": hi}
        for tag, val in (("low", lo), ("high", hi)):
            if name == "effect":                 # the gross share moves with it, within (0, 1]
                val = min(max(val, 1e-9 - inp.control_share), 1 - inp.control_share)
                r[tag] = val
                varied = replace(inp, effect=val, gross_share=inp.control_share + val)
            else:
                varied = _vary(inp, name, val)
            a = account(varied)
            pay = paid(inp, varied.gross_share)
            r[f"municipality_{tag}"] = a.municipal_saving - varied.evaluator_cost - pay
            r[f"surplus_{tag}"] = a.surplus
        rows.append(r)
    out = pd.DataFrame(rows)
    out["range"] = (out["municipality_high"] - out["municipality_low"]).abs()
    return out.sort_values("range", ascending=False, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Settlement(OneRow):
    """Payment due: per outcome (count x price) or on the effect over the control group."""

    basis: str
    n: int
    outcomes: float
    price: float
    estimate: float
    ci_low: float
    ci_high: float


def settle_per_outcome(n: int, outcomes: int, price: float) -> Settlement:
    """Pay a fixed price for every participant with the outcome (e.g. ordinary employment)."""
    due = outcomes * price
    return Settlement("per_outcome", n, outcomes, price, due, due, due)


def settle_on_effect(n: int, effect: float, ci: tuple[float, float], price: float) -> Settlement:
    """Pay a price per additional person in employment over the control group, with its CI."""
    return Settlement("on_effect", n, effect * n, price, effect * n * price,
                      ci[0] * n * price, ci[1] * n * price)


# economics.decay: measured: the effect's decay as measured (published decay.csv), not assumed
MEASURED = "measured"
# the assumed decay the measured one is compared with when the cohort uses the measured one
# (catalogue footnote 14; the schema's default)
ASSUMED_DECAY = 0.15
# the inputs the measured decay sets (the rest of the model is the same at either decay)
DECAY_TERMS = ("decay", "decay_sd", "constant_years")
DECAY_COMPARISON = ("basis", "used", "decay", "decay_sd", "constant_years", "municipality_account",
                    "investor_return", "p_municipality_negative", "p_investor_loses", "municipality_decay")


class MeasuredDecayError(ValueError):
    """economics.decay: measured, but the published decay table has no usable decay (the
    workflow names the decay table, or the cohort file when it is not published)."""


def measured_decay(decay_table: pd.DataFrame | None, outcome: str, alpha: float = 0.05,
                   required: bool = False) -> dict | None:
    """The measured annual decay of `outcome`'s effect from the published decay table
    (decay.csv: effect(m) = effect(+first) x (1 - d)^((m - first)/12), a (1 - alpha) bootstrap
    CI): decay (the estimate), decay_sd (the standard error its CI implies, `se_of_ci`),
    constant_years 0 (the measured curve starts at the outcome month: flat years before it would
    count its first years twice), first and last (the months it is fitted on). None when the
    table is not given (trajectory.publish off), has no row for the outcome or no estimate and
    CI; with `required` (economics.decay: measured) a MeasuredDecayError (a ValueError) that says
    which and what to do."""
    number = "set economics.decay to a number (the assumed decay, e.g. 0.15)"

    def missing(why: str, fix: str):
        if required:
            raise MeasuredDecayError(f"economics.decay: measured: {why}; {number} {fix}")
        return None

    if decay_table is None:
        return missing(f"the decay of '{outcome}' is measured only in the published decay table "
                       "(published/decay.csv), which is written only with trajectory.publish: true",
                       "or enable the trajectory's publication (trajectory.publish: true)")
    row = decay_table.loc[decay_table["outcome"] == outcome] if "outcome" in decay_table else decay_table.iloc[:0]
    if row.empty:
        have = ", ".join(map(str, decay_table.get("outcome", pd.Series(dtype=str)))) or "none"
        return missing(f"decay.csv has no row for outcome '{outcome}' (economics.outcome; it measures: {have})",
                       "or pay for an outcome whose decay is measured (economics.outcome), with the "
                       "trajectory published (trajectory.publish: true)")
    r = row.iloc[0]
    d, lo, hi = (float(pd.to_numeric(r.get(c), errors="coerce")) for c in ("decay", "ci_low", "ci_high"))
    if not all(np.isfinite((d, lo, hi))):
        def shown(c):
            return "empty" if pd.isna(pd.to_numeric(r.get(c), errors="coerce")) else r.get(c)

        return missing(f"decay.csv: outcome '{outcome}' has no measured decay or no confidence interval "
                       f"(decay {shown('decay')}, CI {shown('ci_low')} to {shown('ci_high')}: too few months "
                       "after the programme, or no positive effect to decay)",
                       "until the decay can be measured (more months after the programme)")
    if not d < 1:
        return missing(f"decay.csv: outcome '{outcome}' has a measured decay of {d:g}, which the model cannot "
                       "use (it must be below 1)", "instead")
    first, last = (pd.to_numeric(r.get(c), errors="coerce") for c in ("first", "last"))
    # a growing effect (a negative decay) is not extrapolated over the horizon: at most no decay
    # (the simulation draws the decay within 0-0.99 too)
    return {"decay": max(d, 0.0), "decay_sd": float(se_of_ci(lo, hi, alpha)), "constant_years": 0,
            "first": int(first) if first == first else None, "last": int(last) if last == last else None}


def uses_measured_decay(settings: dict) -> bool:
    """Whether the cohort's `economics.decay` is "measured" (else an assumed number)."""
    return settings.get("decay") == MEASURED


def measured_inputs(settings: dict, effects: pd.DataFrame, alpha: float | None = None,
                    decay_table: pd.DataFrame | None = None) -> Inputs:
    """Inputs from the cohort's `economics:` settings and the published effects table (its
    alpha unless given). With `decay: measured` the decay, its standard deviation and the flat
    years are the measured decay's of `economics.outcome` in `decay_table` (published decay.csv;
    `measured_decay`), a MeasuredDecayError when it has none."""
    if alpha is None:
        alpha = float(effects["alpha"].iloc[0]) if "alpha" in effects and len(effects) else 0.05
    vals = _measured(effects, settings["outcome"], "economics.outcome")
    r = effects.loc[effects["outcome"] == settings["outcome"]].iloc[0]
    c = settings.get("contract") or {}
    types = []
    for name, t in (c.get("outcome_types") or {}).items():
        o = _measured(effects, name, "economics.contract.outcome_types")
        types.append(OutcomeType(name, float(o["share_participants"]), float(o["estimate"]), float(t["price"]),
                                 float(t["annual_gain"]), se_of_ci(float(o["ci_low"]), float(o["ci_high"]), alpha)))
    return Inputs(effect=float(vals["estimate"]), gross_share=float(vals["share_participants"]),
                  provider_cost=settings["provider_cost"], effort_cost=settings["effort_cost"],
                  effort_saving_share=settings["effort_saving_share"],
                  saved_benefits=settings["saved_benefits"], extra_tax=settings["extra_tax"],
                  discount_rate=settings["discount_rate"], horizon=settings["horizon"],
                  **_decay_terms(settings, decay_table), job_retention=settings.get("job_retention"),
                  job_retention_sd=settings.get("job_retention_sd", 0.05),
                  investor_share=c.get("investor_share", 0.5), mode=c.get("mode", "surplus_share"),
                  price=float(c.get("price", 0) or 0) if c.get("mode") == "agreed_price" else 0.0,
                  cap_payment=c.get("cap_payment", 0) or 0.0,
                  cap_return=c.get("cap_return"), floor_return=c.get("floor_return"),
                  payment_months=c.get("payment_months", 12),
                  stages=tuple((int(s["months"]), float(s["share"])) for s in c.get("stages") or ()),
                  evaluator_cost=float(c.get("evaluator_cost", 0)), co_financing=float(c.get("co_financing", 0)),
                  loan_rate=float(c.get("loan_rate", 0)), outcome_types=tuple(types),
                  effect_ci=(float(vals["ci_low"]), float(vals["ci_high"])), alpha=alpha,
                  n_participants=int(n) if (n := pd.to_numeric(r.get("n_participants"), errors="coerce")) == n
                  else None)


def _decay_terms(settings: dict, decay_table: pd.DataFrame | None) -> dict:
    """decay, decay_sd and constant_years as the cohort's settings give them: assumed, or measured."""
    if uses_measured_decay(settings):
        m = measured_decay(decay_table, settings["outcome"], required=True)
        return {k: m[k] for k in DECAY_TERMS}
    return {"decay": settings["decay"], "decay_sd": settings.get("decay_sd", 0.05),
            "constant_years": settings["constant_years"]}


def decay_bases(inp: Inputs, settings: dict, decay_table: pd.DataFrame | None = None) -> tuple[Inputs, Inputs | None]:
    """The model's inputs (`measured_inputs`) at the assumed decay and at the measured one (None
    when the decay table has none for economics.outcome). One of them is `inp`, the basis the
    settings use; the other differs only in decay, decay_sd and constant_years: the assumed one
    is the settings' number with its decay_sd and constant_years (ASSUMED_DECAY, the catalogue's,
    when the settings use the measured decay)."""
    if uses_measured_decay(settings):
        return replace(inp, decay=ASSUMED_DECAY, decay_sd=settings.get("decay_sd", 0.05),
                       constant_years=settings["constant_years"]), inp
    m = measured_decay(decay_table, settings["outcome"])
    if m is None:
        return inp, None
    return inp, replace(inp, **{k: m[k] for k in DECAY_TERMS})


def decay_comparison(assumed: Inputs, measured: Inputs | None, seed: int = 20221101,
                     used: str = "assumed") -> pd.DataFrame:
    """The payment model at the assumed decay and at the measured one, side by side: per basis
    (assumed, measured; only assumed when no decay is measured) its decay, decay_sd and flat
    years, the municipality's account and the investor's return (`account`), the probabilities
    that the municipality's account is negative and that the investor loses (`risk` of one
    `simulate` with `seed`, the same draws for both), and the municipality's break-even decay
    (`break_even`); `used` is True on the basis the cohort's settings use."""
    if used not in ("assumed", MEASURED):
        raise ValueError(f"economics: decay basis {used!r} is not known; use assumed or measured")
    rows = []
    for basis, inp in (("assumed", assumed), (MEASURED, measured)):
        if inp is None:
            continue
        acc = account(inp)
        p = risk(inp, simulate(inp, seed=seed)).set_index("point")["probability"]
        rows.append({"basis": basis, "used": basis == used, "decay": inp.decay, "decay_sd": inp.decay_sd,
                     "constant_years": inp.constant_years, "municipality_account": acc.municipality_account,
                     "investor_return": acc.investor_return,
                     "p_municipality_negative": float(p["p_municipality_negative"]),
                     "p_investor_loses": float(p["p_investor_loses"]),
                     "municipality_decay": break_even(inp).municipality_decay})
    return pd.DataFrame(rows, columns=list(DECAY_COMPARISON))


def _measured(effects: pd.DataFrame, outcome: str, where: str) -> pd.Series:
    """An outcome's published effect row with its numbers (a clear error if suppressed or missing)."""
    row = effects.loc[effects["outcome"] == outcome]
    if row.empty:
        raise ValueError(f"effects.csv has no row for outcome '{outcome}' ({where} in the cohort file)")
    vals = pd.to_numeric(row.iloc[0][["estimate", "ci_low", "ci_high", "share_participants"]], errors="coerce")
    if vals.isna().any():
        raise ValueError(f"effects.csv: outcome '{outcome}' is suppressed or missing "
                         "(disclosure control); the payment model needs its effect and CI")
    return vals


def subgroup_payments(inp: Inputs, settings: dict, subgroups: pd.DataFrame) -> pd.DataFrame:
    """Differentiated payments per person in employment from the measured subgroup gross shares."""
    cols = ["subgroup", "level", "n_participants", "participant_share", "gross_share",
            "payment_per_employed", "provider_margin", "neutral_price", "neutral_margin"]
    var = settings.get("subgroup") or ""
    if not var or subgroups.empty:
        return pd.DataFrame(columns=cols)
    sg = subgroups[(subgroups["subgroup"] == var) & (subgroups["outcome"] == settings["outcome"])]
    g = pd.to_numeric(sg["share_participants"], errors="coerce")
    if sg.empty or g.isna().any():
        return pd.DataFrame(columns=cols)
    n = sg["n_participants"].astype(float)
    w = n / n.sum()
    p = differentiated_payments(account(inp).payment_per_employed, w.to_numpy(), g.to_numpy())
    neutral = selection_neutral_prices(account(inp).payment, g.to_numpy())
    return pd.DataFrame({"subgroup": var, "level": sg["level"].to_numpy(),
                         "n_participants": n.astype(int).to_numpy(), "participant_share": w.to_numpy(),
                         "gross_share": g.to_numpy(), "payment_per_employed": p.to_numpy(),
                         "provider_margin": provider_margins(p.to_numpy(), g.to_numpy(), inp.provider_cost).to_numpy(),
                         "neutral_price": neutral.to_numpy(),
                         "neutral_margin": provider_margins(neutral.to_numpy(), g.to_numpy(),
                                                            inp.provider_cost).to_numpy()})


def settlement(inp: Inputs, settings: dict, effects: pd.DataFrame) -> pd.DataFrame:
    """Both settlement bases for the analysed cohort, at the contract (or model) price."""
    r = effects.loc[effects["outcome"] == settings["outcome"]].iloc[0]
    n, x = int(r["n_participants"]), float(r["x_participants"])
    price = (settings.get("contract") or {}).get("price") or contract_price(inp)
    per_effect = price / inp.effect * inp.gross_share if inp.effect > 0 else price
    return pd.concat([settle_per_outcome(n, x, price).to_frame(),
                      settle_on_effect(n, inp.effect, inp.effect_ci, per_effect).to_frame()],
                     ignore_index=True)


OPTIONAL_TERMS = ("evaluator_cost", "co_financing", "loan_rate", "outcome_types")


def inputs_frame(inp: Inputs, settings: dict | None = None) -> pd.DataFrame:
    """Self-describing inputs table: name, value, source (measured / assumption)."""
    measured = {"effect", "gross_share", "effect_ci", "n_participants"}
    from_decay = set(DECAY_TERMS) if settings and uses_measured_decay(settings) else set()
    rows = []
    for k, v in asdict(inp).items():
        # stages: their own table (stages.csv); the mode: the note's words; contract terms not in use
        if k in ("stages", "mode") or (k in OPTIONAL_TERMS and not v) or (k == "price" and inp.mode != "agreed_price"):
            continue
        if k == "outcome_types":
            for o in inp.outcome_types:
                for part, attr in (("gross_share", "gross_share"), ("effect", "effect"), ("price", "price"),
                                   ("saved_benefits", "annual_gain")):
                    rows.append({"input": f"{part}:{o.name}", "value": getattr(o, attr),
                                 "source": "measured (effects.csv)" if part in ("gross_share", "effect")
                                 else "cohort file economics:"})
            continue
        if k == "effect_ci":
            for tag, x in zip(("effect_ci_low", "effect_ci_high"), v or (np.nan, np.nan)):
                rows.append({"input": tag, "value": x, "source": "measured (effects.csv)"})
            continue
        rows.append({"input": k, "value": v,
                     "source": "measured (effects.csv)" if k in measured else "measured (decay.csv)"
                     if k in from_decay else "cohort file economics:"})
    if settings:
        rows.append({"input": "price_year", "value": settings.get("price_year"), "source": "cohort file economics:"})
    return pd.DataFrame(rows)


# what `solve` may find (the input, its range) and for which result
SOLVABLE = {"investor_share": (0.0, 1.0), "price": (1.0, 5e6), "provider_cost": (0.0, 5e6),
            "effect": None, "decay": (0.0, 0.99), "effort_saving_share": (0.0, 1.0),
            "evaluator_cost": (0.0, 5e6), "co_financing": (0.0, 0.99), "cap_payment": (1.0, 5e6)}
TARGETS = ("municipality_account", "investor_return", "investor_irr", "payment")


def _contract_results(inp: Inputs, world: Inputs) -> dict:
    """The TARGETS when the contract `inp` is signed and the world turns out as `world` (its
    effect, gross share and decay): the prices held, the participants in employment paid."""
    pay = paid(inp, world.gross_share)
    return {"municipality_account": account(world).municipal_saving - inp.evaluator_cost - pay,
            "investor_return": shares(inp, pay)[1], "investor_irr": investor_irr(inp, pay),
            "payment": pay}


def solve(inp: Inputs, unknown: str, target: str, value: float) -> float:
    """The value of input `unknown` at which result `target` equals `value` (e.g. the investor's
    share that leaves the municipality 20,000 kr per participant), the other inputs held. A
    contract term (investor_share, price, caps, costs) is solved for as the plan; the effect and
    the decay as the world under the signed contract (prices held; the effect moves the gross
    share, the control share held), so the effect found for a 0 account is the municipality's
    break-even effect. The smallest such value in the input's range; a clear error when none
    reaches it."""
    if unknown not in SOLVABLE:
        raise ValueError(f"--solve {unknown}: cannot be solved for; use one of {', '.join(SOLVABLE)}")
    if target not in TARGETS:
        raise ValueError(f"target {target}: use one of {', '.join(TARGETS)}")
    if unknown == "price" and inp.mode != "agreed_price":
        inp = replace(inp, mode="agreed_price", price=full_price(inp))
    c = inp.control_share
    lo, hi = SOLVABLE[unknown] or (max(1e-6 - c, -1.0), 1.0 - c)

    def at(v):
        if unknown in ("effect", "decay"):           # the world varies under the signed contract
            world = replace(inp, effect=v, gross_share=c + v) if unknown == "effect" else replace(inp, decay=v)
            return _contract_results(inp, world)[target] - value
        return _contract_results(*(replace(inp, **{unknown: v}),) * 2)[target] - value

    grid = np.linspace(lo, hi, 401)
    f = np.array([at(v) for v in grid])
    sign = np.flatnonzero(np.sign(f[:-1]) * np.sign(f[1:]) <= 0)
    if not len(sign):
        got = f + value
        raise ValueError(f"no {unknown} from {lo:g} to {hi:g} gives {target} = {value:,.4g}: it ranges from "
                         f"{np.nanmin(got):,.4g} to {np.nanmax(got):,.4g} there")
    i = sign[0]
    from scipy.optimize import brentq

    return float(grid[i] if f[i] == 0 else brentq(at, grid[i], grid[i + 1], xtol=1e-12))
