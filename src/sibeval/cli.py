"""sibeval command line: `sibeval demo` writes a synthetic extract, `sibeval payment` plans a payment model."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from sibeval.errors import SibevalError


def _occupied(out: Path, args) -> bool:
    """True (with a message) when `out` holds files and --force was not given."""
    if out.exists() and any(out.iterdir()) and not args.force:
        print(f"sibeval {args.cmd}: {out} exists and is not empty; pass --force to overwrite it",
              file=sys.stderr)
        return True
    return False


def _demo(args) -> int:
    from sibeval.demo.generate import generate

    out = Path(args.out)
    if _occupied(out, args):
        return 2
    t0 = time.perf_counter()
    paths = generate(out, seed=args.seed, pool_size=args.pool_size, profile=args.profile,
                     municipality=args.municipality, block_persons=args.block_persons)
    print(f"wrote {len(paths)} files to {out} in {time.perf_counter() - t0:.1f} s")
    return 0


PAYMENT_OPTIONS = {  # option: (Inputs field, type, help)
    "effect": ("effect", float, "expected employment effect, share (0.18 = 18 points)"),
    "gross_share": ("gross_share", float, "expected participants' employment share (0.35)"),
    "cost": ("provider_cost", float, "provider cost per participant, kr"),
    "effort_cost": ("effort_cost", float, "ordinary employment effort per participant, kr"),
    "effort_saving_share": ("effort_saving_share", float, "share of the effort saved (0.5)"),
    "saved_benefits": ("saved_benefits", float, "saved benefits per extra employed per year, kr"),
    "extra_tax": ("extra_tax", float, "extra municipal tax per extra employed per year, kr"),
    "discount_rate": ("discount_rate", float, "real discount rate (0.035)"),
    "horizon": ("horizon", int, "years with an effect after the programme year (10)"),
    "constant_years": ("constant_years", int, "years the effect stays constant (2)"),
    "decay": ("decay", float, "annual fall of the effect afterwards (0.15)"),
    "investor_share": ("investor_share", float, "investor's share of the surplus (0.5)"),
}
# the contract's terms (a cohort file's economics.contract:)
CONTRACT_OPTIONS = {
    "mode": ("mode", str, "form of contract: surplus_share (default), agreed_price (with --price), "
                          "reinvestment (Alternativ 1) or loan (Alternativ 2)"),
    "evaluator_cost": ("evaluator_cost", float, "evaluator and contract costs per participant, kr (0)"),
    "co_financing": ("co_financing", float, "the provider's own share of its cost (0; Viborg/Væksthuset 0.5)"),
    "loan_rate": ("loan_rate", float, "mode loan: the investor's annual interest (0)"),
    "payment_months": ("payment_months", int, "months from the investment to the payment (12)"),
    "cap_payment": ("cap_payment", float, "most the municipality pays per participant, kr (0: no cap)"),
    "cap_return": ("cap_return", float, "the investor's return is at most this (e.g. 0.1)"),
    "floor_return": ("floor_return", float, "the investor's return is at least this (e.g. -0.2)"),
}
OPTIONAL_ROWS = ("Saving on further outcome types", "Evaluator and contract costs", "Provider's margin")
PARTY_LABELS = {"municipality": "Municipality's account, kr", "investor": "Investor's return (total)",
                "investor_annual": "Investor's return per year (IRR)", "provider": "Provider's margin, kr"}
SOLVE_TARGETS = {"municipality_keeps": "municipality_account", "investor_return": "investor_return",
                 "investor_irr": "investor_irr"}


def _add_scenario_parser(sub) -> None:
    from sibeval.demo.scenarios import FORMATS, PATHOLOGIES

    sc = sub.add_parser(
        "scenario", help="write a test extract with the pathologies of real deliveries",
        description="Write a register extract, written from DATA_CONTRACT.md alone, with chosen "
                    "pathologies (deaths and emigrations after matching, outcome months past the "
                    "data, CSV/Stata deliveries, ...) and a cohort file for it. For trying the "
                    "workflow on data it was not tuned to; see tests/test_scenarios.py.")
    sc.add_argument("--out", required=True, metavar="DIR", help="folder to write the extract to "
                    "(its name becomes the extract's name in the cohort file)")
    sc.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    sc.add_argument("--random", action="store_true",
                    help="draw size, format and pathologies from the seed")
    sc.add_argument("--pathology", action="append", default=[], metavar="NAME",
                    help=f"switch one on (repeatable): {', '.join(PATHOLOGIES)}")
    sc.add_argument("--format", default="parquet", choices=FORMATS, help="delivery format (default: %(default)s)")
    sc.add_argument("--persons", type=int, default=3000, help="persons in the extract (default: %(default)s)")
    sc.add_argument("--participants", type=int, default=60,
                    help="participants referred (default: %(default)s)")
    sc.add_argument("--cohort-file", metavar="FILE", help="where to write the cohort file "
                    "(default: <name of --out>.yaml in the current folder)")
    sc.add_argument("--force", action="store_true", help="overwrite the files of a non-empty folder")
    sc.set_defaults(func=_scenario)


def _add_payment_parser(sub) -> None:
    pay = sub.add_parser("payment", help="expected budget account and payment workbook (planning)",
                         description="The catalogue's 'forventet budgetøkonomisk regnskab': prints "
                         "the expected account per participant and writes the live workbook. "
                         "Values not given come from --config (a cohort file's economics: "
                         "section or a flat YAML), then from the schema defaults.")
    for opt, (_, typ, hlp) in (PAYMENT_OPTIONS | CONTRACT_OPTIONS).items():
        pay.add_argument("--" + opt.replace("_", "-"), type=typ, help=hlp)
    pay.add_argument("--config", help="YAML file with the inputs (keys as the options, or economics:)")
    pay.add_argument("--out", default="payment_model.xlsx", help="workbook to write")
    pay.add_argument("--language", default="da", choices=["da", "en"], help="the workbook's language")
    pay.add_argument("--participants", type=int, help="cohort size: print the contract's totals for it")
    pay.add_argument("--price", type=float, help="agreed price per participant in employment, kr (default: "
                     "the model's); with --mode agreed_price the contract's price")
    from sibeval.economics.model import SOLVABLE
    pay.add_argument("--effect-ci", type=float, nargs=2, metavar=("LOW", "HIGH"),
                     help="the effect's 95 %% confidence interval: print the parties' risk from the simulation "
                          "(with --participants: the cohort's chance variation too)")
    pay.add_argument("--solve", choices=list(SOLVABLE), metavar="INPUT",
                     help=f"find the value of this input ({', '.join(SOLVABLE)}) that gives the target below")
    pay.add_argument("--municipality-keeps", type=float, metavar="KR",
                     help="target for --solve: the municipality's account per participant, kr")
    pay.add_argument("--investor-return", type=float, metavar="SHARE",
                     help="target for --solve: the investor's return over the contract (e.g. 0.1)")
    pay.add_argument("--investor-irr", type=float, metavar="SHARE",
                     help="target for --solve: the investor's return per year, internal rate (e.g. 0.05)")
    pay.set_defaults(func=_payment)


def _payment(args) -> int:
    import yaml

    from sibeval.economics import model as ec
    from sibeval.report.payment_workbook import build

    targets = {t: getattr(args, t) for t in SOLVE_TARGETS if getattr(args, t) is not None}
    if targets and not args.solve:
        raise SibevalError("--" + next(iter(targets)).replace("_", "-")
                           + " is a target for --solve; give --solve INPUT")
    if args.solve and len(targets) != 1:
        raise SibevalError(f"--solve {args.solve} needs one target: "
                           + ", ".join("--" + t.replace("_", "-") for t in SOLVE_TARGETS))
    cfg = {}
    if args.config:
        try:
            cfg = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SibevalError(f"--config {args.config}: cannot read it ({exc})") from None
        cfg = cfg.get("economics", cfg)
    if args.decay is None and cfg.get("decay") == "measured":
        raise SibevalError(f"--config {args.config}: economics.decay: measured is read from a cohort's published "
                           "decay table by the workflow (rule economics); here give --decay (e.g. the measured "
                           "estimate in results/<cohort>/published/decay.csv) and --constant-years 0")
    contract = cfg.get("contract") or {}
    values = {}
    for opt, (field, typ, _) in (PAYMENT_OPTIONS | CONTRACT_OPTIONS).items():
        v = getattr(args, opt)
        if v is None:
            v = contract.get(field, cfg.get(field, cfg.get(opt)))
        if v is not None:
            values[field] = typ(v)
    if values.get("mode") == "agreed_price":
        price = args.price if args.price is not None else contract.get("price")
        if price is None:
            raise SibevalError("--mode agreed_price needs --price (the agreed price per participant in employment, kr)")
        values["price"] = float(price)
    if contract.get("stages"):
        values["stages"] = tuple((int(s["months"]), float(s["share"])) for s in contract["stages"])
    missing = [o for o, (f, _, _) in PAYMENT_OPTIONS.items()
               if f in ("effect", "gross_share", "provider_cost", "effort_cost") and f not in values]
    if missing:
        raise SibevalError("missing " + ", ".join("--" + m.replace("_", "-") for m in missing))
    from sibeval.report.payment_workbook import MAX_YEARS
    if values.get("horizon", 0) > MAX_YEARS:
        raise SibevalError(f"--horizon {values['horizon']}: the workbook holds at most {MAX_YEARS} years after "
                           "the programme year; give a horizon of 1 to 60")
    try:
        inp = ec.Inputs(**values)
    except ValueError as exc:
        raise SibevalError(str(exc)) from None
    for w in ec.warnings(inp):
        print(f"warning: {w}", file=sys.stderr)
    acc, be = ec.account(inp), ec.break_even(inp)
    rows = [("Saving on the ordinary effort", acc.effort_saving),
            ("Saved benefits", acc.benefits_saving), ("Extra municipal tax", acc.tax_gain),
            ("Saving on further outcome types", acc.other_saving),
            ("Municipality's saving", acc.municipal_saving), ("Provider cost", -acc.provider_cost),
            ("Evaluator and contract costs", -acc.evaluator_cost),
            ("Budget surplus", acc.surplus), ("Investor's gain", acc.investor_share),
            ("Provider's margin", acc.provider_margin), ("Payment per participant", acc.payment),
            ("Payment per participant in employment", acc.payment_per_employed),
            ("Municipality's account", acc.municipality_account)]
    rows = [(label, v) for label, v in rows if v or label not in OPTIONAL_ROWS]
    print("Expected budget account per participant (kr, present value)")
    for label, v in rows:
        print(f"  {label:<40}{v:>12,.0f}")
    print(f"  {'Investor return (total, not per year)':<40}{100 * acc.investor_return:>11.1f}%")
    print(f"  {'Investor return per year (internal rate)':<40}{100 * ec.investor_irr(inp, acc.payment):>11.1f}%")
    who = "provider, who repays the loan" if inp.mode == "loan" else "investor"
    print(f"  {f'Break-even gross share ({who})':<40}{100 * be.investor_gross_share:>11.1f}%")
    years = ec.years_to_break_even(inp)
    payback = "not within the horizon" if years != years else f"year {years:.0f} after the programme year"
    print(f"  {'Municipality cumulatively positive':<40}{payback:>12}")
    if args.participants is not None:
        try:
            tot = ec.cohort_totals(inp, args.participants, args.price)
        except ValueError as exc:
            raise SibevalError(str(exc)) from None
        print(f"Contract for {tot.participants} participants at {tot.price:,.0f} kr per participant in employment")
        print(f"  {'Expected in employment':<40}{tot.expected_employed:>12.1f}")
        print(f"  {'Expected payment':<40}{tot.expected_payment:>12,.0f}")
        print(f"  {'Contract value (all in employment)':<40}{tot.contract_value:>12,.0f}")
        for label, v in (("In employment for the investor to break even", tot.employed_for_investor),
                         ("In employment for the municipality to break even", tot.employed_for_municipality)):
            print(f"  {label:<40}{'not reachable' if v is None else f'{v:.1f}'.removesuffix('.0'):>12}")
    if args.effect_ci:
        try:
            inp = replace(inp, effect_ci=tuple(args.effect_ci), n_participants=args.participants)
            sim = ec.simulate(inp, seed=int(cfg.get("seed", 20221101)))
        except ValueError as exc:
            raise SibevalError(str(exc)) from None
        print(f"Risk from one simulation (20,000 draws: the effect's CI, decay ±{inp.decay_sd:g}"
              + (f", {inp.n_participants} participants' chance variation)" if inp.n_participants else ")"))
        print(f"  {'':<34}{'mean':>10}{'5 %':>10}{'95 %':>10}{'P(loss)':>10}")
        for _, r in ec.parties(sim).iterrows():
            kr = r["party"] in ("municipality", "provider")
            show = (lambda v: f"{v:>10,.0f}") if kr else (lambda v: f"{100 * v:>9.1f}%")
            print(f"  {PARTY_LABELS[r['party']]:<34}{show(r['mean'])}{show(r['p05'])}{show(r['p95'])}"
                  f"{100 * r['probability_loss']:>9.1f}%")
    if args.solve:
        (t, v), = targets.items()
        try:
            x = ec.solve(inp, args.solve, SOLVE_TARGETS[t], v)
        except ValueError as exc:
            raise SibevalError(f"--solve {args.solve}: {exc}") from None
        print(f"Solved: {args.solve} = {x:,.6g} gives {t.replace('_', ' ')} {v:,.6g}")
    build(inp, measured=(), lang=args.language, price_year=cfg.get("price_year")).save(args.out)
    print(f"wrote {args.out}")
    return 0


def _scenario(args) -> int:
    import yaml

    from sibeval.demo.scenarios import PATHOLOGIES, Scenario, random_scenario, write_scenario

    out = Path(args.out)
    if _occupied(out, args):
        return 2
    if args.random:
        sc = random_scenario(args.seed)
    else:
        bad = sorted(set(args.pathology) - set(PATHOLOGIES))
        if bad:
            raise SibevalError(f"--pathology {', '.join(bad)} is not known; use any of {', '.join(PATHOLOGIES)}")
        sc = Scenario(seed=args.seed, persons=args.persons, participants=args.participants,
                      fmt=args.format, pathologies=frozenset(args.pathology))
    res = write_scenario(sc, out)
    cohort = Path(args.cohort_file or f"{out.name}.yaml")
    cohort.write_text(yaml.safe_dump({**res["cohort"], "extract": out.name}, allow_unicode=True,
                                     sort_keys=False), encoding="utf-8")
    print(f"wrote the extract to {out} ({sc.fmt}; pathologies: {', '.join(sorted(sc.pathologies)) or 'none'}) "
          f"and its cohort file to {cohort}; expected: "
          f"{'a stop with ' + repr(sc.expected_stop()) if sc.expected_stop() else 'publishes'}")
    return 0


def parser() -> argparse.ArgumentParser:
    """The `sibeval` command line (one subcommand per task)."""
    from sibeval.demo.profiles import BLOCK_PERSONS, PROFILES

    from . import __version__

    p = argparse.ArgumentParser(prog="sibeval", description=__doc__)
    p.add_argument("--version", action="version", version=f"sibeval {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    d = sub.add_parser(
        "demo", help="write a synthetic demo extract",
        description="Write a synthetic register extract (the files of DATA_CONTRACT.md) with the "
                    "referred participants of a demo profile and a population of others. The same "
                    "seed, pool size and profile give the same bytes.")
    d.add_argument("--out", default="data/raw/demo", metavar="DIR",
                   help="folder to write the extract to (default: %(default)s)")
    d.add_argument("--seed", type=int, default=20221101,
                   help="random seed; the same seed gives byte-identical files (default: %(default)s)")
    d.add_argument("--pool-size", type=int, default=20000, metavar="N",
                   help="persons besides the participants, the pool controls are drawn from; at least 1000 "
                        "(default: %(default)s)")
    d.add_argument("--block-persons", type=int, default=BLOCK_PERSONS, metavar="N",
                   help="a larger pool is generated and written in blocks of N persons, so memory stays "
                        "that of one block; a pool up to N is one block (default: %(default)s)")
    d.add_argument("--profile", default="sib_herning_viborg", choices=list(PROFILES),
                   help="which programme's participants to simulate (default: %(default)s)")
    d.add_argument("--municipality", type=int, default=None, metavar="CODE",
                   help="give every participant this municipality code instead of the profile's "
                        "(a stand-in extract for a new cohort, e.g. 751 for Aarhus)")
    d.add_argument("--force", action="store_true",
                   help="overwrite the files of an existing, non-empty folder")
    d.set_defaults(func=_demo)
    _add_scenario_parser(sub)
    _add_payment_parser(sub)
    c = sub.add_parser("config-docs", help="write config/README.md from the workflow's schemas",
                       description="Write the settings reference (config/README.md) from the descriptions "
                                   "in workflow/schemas/; run from the repository after changing a schema.")
    c.add_argument("--schemas", default="workflow/schemas", metavar="DIR", help="default: %(default)s")
    c.add_argument("--out", default="config/README.md", metavar="FILE", help="default: %(default)s")
    c.set_defaults(func=_config_docs)
    return p


def _config_docs(args) -> int:
    from sibeval.config import config_readme

    Path(args.out).write_text(config_readme(args.schemas), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        return args.func(args)
    except (SibevalError, ValueError) as exc:
        print(f"sibeval {args.cmd}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
