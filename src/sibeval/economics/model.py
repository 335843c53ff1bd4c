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
from scipy.optimize import brentq
from scipy.stats import norm

from sibeval.results import OneRow


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

    def __post_init__(self):
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


def effect_se(inp: Inputs) -> float:
    """The effect's standard error implied by its confidence interval (normal)."""
    if inp.effect_ci is None:
        raise ValueError("economics: risk needs the effect's confidence interval (effect_ci)")
    return (inp.effect_ci[1] - inp.effect_ci[0]) / (2 * norm.ppf(1 - inp.alpha / 2))


def annuity(inp: Inputs, decay: float | None = None) -> float:
    """Present value of one additional person in employment at the profile (person-years)."""
    return float((effect_profile(inp, decay) * discount_factors(inp)).sum())


@dataclass(frozen=True)
class Account:
    """Budget account per participant (kr, present value) and its split."""

    effort_saving: float
    benefits_saving: float
    tax_gain: float
    municipal_saving: float
    provider_cost: float
    surplus: float
    investor_share: float
    payment: float
    investor_return: float
    municipality_account: float
    payment_per_employed: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"item": list(asdict(self)), "value": list(asdict(self).values())})


def account(inp: Inputs) -> Account:
    """COWI's Table 1-2: saving by component, cost, surplus, investor share, payment."""
    k = annuity(inp)
    effort = inp.effort_saving_share * inp.effort_cost
    benefits = inp.effect * inp.saved_benefits * k
    tax = inp.effect * inp.extra_tax * k
    saving = effort + benefits + tax
    surplus = saving - inp.provider_cost
    payment = contract_payment(inp, inp.provider_cost + inp.investor_share * surplus)
    share = payment - inp.provider_cost
    return Account(effort, benefits, tax, saving, inp.provider_cost, surplus, share, payment,
                   share / inp.provider_cost, saving - payment, payment / inp.gross_share)


def retention(inp: Inputs, months, decay=None):
    """The expected share still in employment `months` after the first stage's month."""
    d = inp.decay if decay is None else decay
    return (1 - np.asarray(d, dtype=float)) ** ((months - inp.stages[0][0]) / 12)


def stage_factor(inp: Inputs, decay=None):
    """The expected share of the full price paid per participant in employment at the first
    stage: sum of share x retention at the stage's month (1 without stages)."""
    d = inp.decay if decay is None else decay
    if not inp.stages:
        return 1.0 if np.ndim(d) == 0 else np.ones(np.shape(d))
    return sum(s * retention(inp, m, d) for m, s in inp.stages)


def decay_payment_ratio(inp: Inputs, decay):
    """The payment at `decay` relative to the plan's (a staged contract pays less when the
    effect fades faster: the lever that moves the decay risk to the investor)."""
    return stage_factor(inp, decay) / stage_factor(inp)


def stage_payments(inp: Inputs) -> pd.DataFrame:
    """The contract's payments by stage: months, share of the price, the price per participant
    in employment at that stage, the expected share still in employment, and the expected
    payment per participant (the stages add up to the plan's payment)."""
    stages = inp.stages or ((None, 1.0),)
    full = account(inp).payment_per_employed / stage_factor(inp)
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
    if inp.cap_return is not None:
        hi = min(hi, inp.provider_cost * (1 + inp.cap_return))
    lo = -np.inf if inp.floor_return is None else inp.provider_cost * (1 + inp.floor_return)
    out = np.clip(payment, lo, hi)
    return float(out) if np.ndim(out) == 0 else out


def simulate(inp: Inputs, draws: int = 20_000, seed: int = 20221101) -> pd.DataFrame:
    """One seeded simulation of the contract that every party's risk reads: the effect (normal,
    its CI's standard error), the cohort's realised share in employment (binomial, n
    participants), the decay (normal, decay_sd, kept in 0-0.99); the payment is the plan's
    price per participant in employment times the realised share, within the caps and floor.
    Columns per draw: effect, decay, employed_share, saving, payment, municipality_account,
    investor_return, investor_return_annual, provider_margin (the provider is paid its cost by
    the investor: 0 in this contract form)."""
    se = effect_se(inp)
    rng = np.random.default_rng(seed)
    e = rng.normal(inp.effect, se, draws)
    d = np.clip(rng.normal(inp.decay, inp.decay_sd, draws), 0.0, 0.99)
    p = np.clip(inp.control_share + e, 0.0, 1.0)
    g = rng.binomial(inp.n_participants, p) / inp.n_participants if inp.n_participants else p
    k = (effect_profile(inp, d[:, None]) * discount_factors(inp)).sum(axis=1)
    saving = inp.effort_saving_share * inp.effort_cost + e * inp.annual_gain * k
    payment = contract_payment(inp, account(inp).payment_per_employed * g * decay_payment_ratio(inp, d))
    ret = (payment - inp.provider_cost) / inp.provider_cost
    annual = np.sign(1 + ret) * np.abs(1 + ret) ** (12 / inp.payment_months) - 1
    return pd.DataFrame({"effect": e, "decay": d, "employed_share": g, "saving": saving, "payment": payment,
                         "municipality_account": saving - payment, "investor_return": ret,
                         "investor_return_annual": annual, "provider_margin": np.zeros(draws)})


def parties(sim: pd.DataFrame) -> pd.DataFrame:
    """The three parties' risk from one simulation: mean, 5th/50th/95th percentile and the
    probability of a loss of the municipality's account (kr per participant), the investor's
    return (total and annualised) and the provider's margin (kr per participant)."""
    rows = []
    for party, col in (("municipality", "municipality_account"), ("investor", "investor_return"),
                       ("investor_annual", "investor_return_annual"), ("provider", "provider_margin")):
        v = sim[col].to_numpy()
        if party == "investor_annual" and np.allclose(v, sim["investor_return"]):
            continue                              # paid after 12 months: the total is the annual return
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
    (the ceiling, for the procurement threshold), the number in employment the investor needs
    to recover the provider's cost, and the number at which the municipality's account is 0
    (its saving grows with the effect: employed over the control share)."""
    import math

    if participants < 1:
        raise ValueError(f"economics: participants={participants!r} must be at least 1")
    p = account(inp).payment_per_employed if price is None else float(price)
    if p <= 0:
        raise ValueError(f"economics: price={price!r} must be above 0 kr")
    k, effort = annuity(inp), inp.effort_saving_share * inp.effort_cost
    # M(x) = effort + (x/n - c) * gain * K - p * x/n = 0  ->  x/n = (c * gain * K - effort) / (gain * K - p)
    slope = inp.annual_gain * k - p
    share = (inp.control_share * inp.annual_gain * k - effort) / slope if slope else float("nan")
    investor = math.ceil(inp.provider_cost * participants / p - 1e-9)
    # the municipality gains with each person employed only while the price is below the saving
    municipality = share * participants if slope > 0 else float("nan")
    return CohortTotals(participants, p, inp.gross_share * participants, p * inp.gross_share * participants,
                        p * participants, investor if investor <= participants else None,
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
    if acc.surplus < 0:
        out.append(f"the budget surplus is negative ({acc.surplus:,.0f} kr per participant): the municipality "
                   f"saves less than the provider's cost, and with investor_share {inp.investor_share:g} the "
                   f"investor bears {inp.investor_share:.0%} of the loss (paid {acc.payment:,.0f} kr for a cost "
                   f"of {inp.provider_cost:,.0f} kr)")
    for name, what in (("saved_benefits", "benefits saved"), ("extra_tax", "extra municipal tax")):
        if getattr(inp, name) == 0:
            out.append(f"{name} is 0: no {what} per additional person in employment is counted; give it "
                       "(kr per year) or the saving and the payment are understated")
    return out


def break_even(inp: Inputs) -> BreakEven:
    acc = account(inp)
    p = acc.payment_per_employed
    effort = inp.effort_saving_share * inp.effort_cost
    per_effect = inp.annual_gain * annuity(inp)          # saving per unit of effect
    g_inv = inp.provider_cost / p
    e_surplus = (inp.provider_cost - effort) / per_effect if per_effect else np.nan
    slope = per_effect - p
    e_mun = (p * inp.control_share - effort) / slope if slope else np.nan
    target = acc.payment - effort                        # effect-part that keeps M = 0

    def m_decay(d):
        return inp.effect * inp.annual_gain * annuity(inp, d) - target

    try:
        d_mun = brentq(m_decay, -0.99, 0.999999) if m_decay(0.999999) < 0 < m_decay(-0.99) else np.nan
    except ValueError:
        d_mun = np.nan
    s_mun = (acc.payment - acc.benefits_saving - acc.tax_gain) / inp.effort_cost \
        if inp.effort_cost else np.nan
    return BreakEven(g_inv, g_inv - inp.control_share, e_surplus, e_mun, d_mun, s_mun)


def cash_flow(inp: Inputs) -> pd.DataFrame:
    """The municipality's account by year (discounted), and its cumulative sum."""
    acc = account(inp)
    prof = effect_profile(inp)
    disc = discount_factors(inp)
    years = np.arange(0, inp.horizon + 1)
    effect = np.r_[0.0, inp.effect * prof]
    saving = np.r_[acc.effort_saving, inp.effect * inp.annual_gain * prof]
    pv = saving * np.r_[1.0, disc]
    flow = pv - np.r_[acc.payment, np.zeros(inp.horizon)]
    return pd.DataFrame({"year": years, "effect": effect, "saving": saving,
                         "saving_present_value": pv, "payment": np.r_[acc.payment, np.zeros(inp.horizon)],
                         "net_present_value": flow, "cumulative": np.cumsum(flow)})


def years_to_break_even(inp: Inputs) -> float:
    """First year whose cumulative municipal account is >= 0 (NaN: not within the horizon)."""
    cf = cash_flow(inp)
    ok = cf.loc[cf["cumulative"] >= -1e-9, "year"]
    return float(ok.iloc[0]) if len(ok) else np.nan


def risk(inp: Inputs) -> pd.DataFrame:
    """Accounts at the effect's CI bounds and the probabilities of losses.

    Rows ci_low/estimate/ci_high: the accounts at that effect. Rows p_*: `effect` is the
    break-even effect and `probability` the chance the effect falls on the losing side of it.

    The effect is taken as normal with the standard error implied by its CI; the control share
    is held fixed, so the gross share moves with the effect and the payment per employed is
    fixed at the planned price. The investor's probability of a loss adds the sampling variance
    of the cohort's realised employment share, g(1 - g)/n, when the cohort's size is known.
    """
    se = effect_se(inp)
    lo, hi = inp.effect_ci
    price = account(inp).payment_per_employed
    rows = []
    for label, e in (("ci_low", lo), ("estimate", inp.effect), ("ci_high", hi)):
        a = account(replace(inp, effect=e, gross_share=inp.control_share + e))
        paid = price * (inp.control_share + e)
        rows.append({"point": label, "effect": e, "surplus": a.surplus,
                     "municipality_account": a.municipal_saving - paid,
                     "investor_profit": paid - inp.provider_cost,
                     "investor_return": (paid - inp.provider_cost) / inp.provider_cost})
    be = break_even(inp)
    increasing = price < inp.annual_gain * annuity(inp)   # the municipality gains with the effect
    p_mun = norm.cdf((be.municipality_effect - inp.effect) / se)
    # the investor is paid per participant actually in employment: the cohort's realised share
    # also varies by sampling around the expected one (binomial, n participants)
    n = inp.n_participants
    sd_paid = float(np.hypot(se, np.sqrt(inp.gross_share * (1 - inp.gross_share) / n))) if n else se
    probs = (("p_municipality_negative", be.municipality_effect, p_mun if increasing else 1 - p_mun),
             ("p_investor_loses", be.investor_effect, norm.cdf((be.investor_effect - inp.effect) / sd_paid)),
             ("p_surplus_negative", be.surplus_effect, norm.cdf((be.surplus_effect - inp.effect) / se)))
    for label, e, p in probs:
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
    "decay_sd", "cap_return", "floor_return",
})
# whole years, and other whole numbers written plainly (a seed of 20221101 is not 20.221.101)
YEARS = frozenset({"price_year", "horizon", "constant_years", "year", "payment_months", "seed"})
COUNTS = frozenset({"n", "outcomes", "n_participants", "level"})
# the investor's share of the surplus is an input (a share); in the account it is kroner
INPUT_SHARES = frozenset({"investor_share"})


def kind(name: str, table: str = "") -> str | None:
    """'share', 'years', 'count' or None (kroner) for a quantity of an economics table
    (`table`: inputs, account, ...)."""
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
    price = account(inp).payment_per_employed
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
            r[f"municipality_{tag}"] = (a.municipal_saving - price * varied.gross_share
                                        * decay_payment_ratio(inp, varied.decay))
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


def measured_inputs(settings: dict, effects: pd.DataFrame, alpha: float | None = None) -> Inputs:
    """Inputs from the cohort's `economics:` settings and the published effects table (its
    alpha unless given)."""
    if alpha is None:
        alpha = float(effects["alpha"].iloc[0]) if "alpha" in effects and len(effects) else 0.05
    row = effects.loc[effects["outcome"] == settings["outcome"]]
    if row.empty:
        raise ValueError(f"effects.csv has no row for outcome '{settings['outcome']}' "
                         "(economics.outcome in the cohort file)")
    r = row.iloc[0]
    vals = pd.to_numeric(r[["estimate", "ci_low", "ci_high", "share_participants"]], errors="coerce")
    if vals.isna().any():
        raise ValueError(f"effects.csv: outcome '{settings['outcome']}' is suppressed or missing "
                         "(disclosure control); the payment model needs its effect and CI")
    return Inputs(effect=float(vals["estimate"]), gross_share=float(vals["share_participants"]),
                  provider_cost=settings["provider_cost"], effort_cost=settings["effort_cost"],
                  effort_saving_share=settings["effort_saving_share"],
                  saved_benefits=settings["saved_benefits"], extra_tax=settings["extra_tax"],
                  discount_rate=settings["discount_rate"], horizon=settings["horizon"],
                  constant_years=settings["constant_years"], decay=settings["decay"],
                  investor_share=settings["investor_share"],
                  cap_payment=settings.get("cap_payment", 0) or 0.0,
                  cap_return=settings.get("cap_return"), floor_return=settings.get("floor_return"),
                  decay_sd=settings.get("decay_sd", 0.05), payment_months=settings.get("payment_months", 12),
                  stages=tuple((int(s["months"]), float(s["share"])) for s in settings.get("stages") or ()),
                  effect_ci=(float(vals["ci_low"]), float(vals["ci_high"])), alpha=alpha,
                  n_participants=int(n) if (n := pd.to_numeric(r.get("n_participants"), errors="coerce")) == n
                  else None)


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
    price = settings.get("price_per_outcome") or account(inp).payment_per_employed
    per_effect = price / inp.effect * inp.gross_share if inp.effect > 0 else price
    return pd.concat([settle_per_outcome(n, x, price).to_frame(),
                      settle_on_effect(n, inp.effect, inp.effect_ci, per_effect).to_frame()],
                     ignore_index=True)


def inputs_frame(inp: Inputs, settings: dict | None = None) -> pd.DataFrame:
    """Self-describing inputs table: name, value, source (measured / assumption)."""
    measured = {"effect", "gross_share", "effect_ci", "n_participants"}
    rows = []
    for k, v in asdict(inp).items():
        if k == "stages":                         # its own table (stages.csv)
            continue
        if k == "effect_ci":
            for tag, x in zip(("effect_ci_low", "effect_ci_high"), v or (np.nan, np.nan)):
                rows.append({"input": tag, "value": x, "source": "measured (effects.csv)"})
            continue
        rows.append({"input": k, "value": v,
                     "source": "measured (effects.csv)" if k in measured else "cohort file economics:"})
    if settings:
        rows.append({"input": "price_year", "value": settings.get("price_year"), "source": "cohort file economics:"})
    return pd.DataFrame(rows)
