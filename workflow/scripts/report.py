"""The effect note, the workbook and the figures folder (rule report)."""
import html
import logging
import shutil
from pathlib import Path

import pandas as pd

from sibeval import __version__, figures
from sibeval.adapters import atomic_path, context, run
from sibeval.cohort import COVARIATES
from sibeval.outcomes import OUTCOMES
from sibeval.report import build_html, num, pct, pval, run_date, write_workbook
from sibeval.report_text import covariate_labels, text
from sibeval.tables import profile_table

log = logging.getLogger("sibeval")

FLOW_DA = {"referred": "Visiteret", "in_cohort_municipalities": "Fra kohortens kommuner",
           "started": "Startet", "found_in_bef": "Fundet i befolkningsregistret",
           "valid_birth_date": "Gyldig fødselsdato",
           "ended": "Afsluttet forløb", "outcome_observed": "Status observeret i opfølgningsmåneden",
           "matched": "Matchet med kontrolpersoner", "controls_matched": "Kontrolpersoner matchet",
           "controls_outcome_observed": "Kontrolpersoner med observeret status",
           "start_questionnaire": "Startskema besvaret", "both_questionnaires": "Start- og slutskema",
           "complete_pairs": "Komplette par"}


REASONS_DA = {
    "referred by another municipality": "visiteret af en anden kommune",
    "referred but never started": "visiteret, men aldrig startet",
    "not found in the population register (bef)": "ikke fundet i befolkningsregistret (bef)",
    "birth date after the programme start or age outside 15-100 at start":
        "fødselsdato efter forløbets start eller alder uden for 15-100 ved start",
    "still in the programme (no slut_dato)": "stadig i forløb (ingen slutdato)",
    "outcome month after the extract's coverage": "opfølgningsmåned efter registerudtrækkets periode",
    "died before the outcome month ended": "død før opfølgningsmånedens udløb",
    "not in DREAM": "ikke i DREAM",
    "no eligible control within the caliper": "ingen kontrolperson inden for caliper",
    "no start questionnaire": "intet startskema",
    "no end questionnaire": "intet slutskema",
    "incomplete items": "ufuldstændige besvarelser",
}


WARNINGS_DA = {
    "fewer than 30 participants": "færre end 30 deltagere",
    "fewer than 30 controls": "færre end 30 kontrolpersoner",
    "fewer than 10 participants with the outcome": "færre end 10 deltagere med udfaldet",
    "fewer than 10 controls with the outcome (weighted)": "færre end 10 kontrolpersoner med udfaldet (vægtet)",
}


def _warning_da(text):
    return "; ".join(WARNINGS_DA.get(w, w) for w in text.split("; ")) if text else ""


def _reason_da(text):
    for en, da in REASONS_DA.items():
        text = text.replace(en, da)
    return text


def _yes(v, lang):
    if v is None or str(v) in ("", "nan"):
        return ""
    return ("ja" if lang == "da" else "yes") if str(v) == "True" else ("nej" if lang == "da" else "no")


def main(smk):
    ctx = context(smk)
    p, c, lang, k = ctx.params, ctx.cohort, ctx.lang, ctx.min_cell
    da = lang == "da"
    out_dir = Path(smk.output.html).parent
    fig_dir = Path(smk.output.figures)
    tmp_fig = out_dir / ".figures.tmp"
    shutil.rmtree(tmp_fig, ignore_errors=True)
    tmp_fig.mkdir(parents=True)
    status_lbl = {o: v[lang] for o, v in p["labels"]["status"].items()}
    item_lbl = {i: v[lang] for i, v in p["labels"]["items"].items()}
    cov_lbl = covariate_labels(lang)
    P, C = text("participants", lang), text("controls", lang)
    read = {name: pd.read_csv(getattr(smk.input, name), keep_default_na=False, na_values=[""])
            for name in ("flow", "table1", "effects", "hours_wage", "subgroups", "placebo",
                         "diagnostics", "balance", "match_summary", "qc", "distribution")}
    tables, raw = {}, {}

    flow = read["flow"].copy()
    flow["step"] = flow["step"].map(lambda s: FLOW_DA.get(s, s) if da else s.replace("_", " "))
    if da:
        flow["reason"] = flow["reason"].fillna("").map(_reason_da)
    tables["flow"] = flow.rename(columns={"step": "Trin" if da else "Step", "n": "Antal" if da else "n",
                                          "excluded": "Udeladt" if da else "Excluded",
                                          "reason": "Årsag" if da else "Reason"})

    # participant profile against the eligible pool and the matched controls
    cand = pd.read_parquet(smk.input.candidates)
    matched = pd.read_parquet(smk.input.matched)
    covs = [v for v in c["covariates"] if v in cand and cand[v].notna().all()]
    prof = profile_table(matched, cand, covs, k, read["balance"])

    def fmt_share(r, col):
        v = r[col]
        return num(v, 1, lang) if r["type"] == "continuous" else pct(v, 0, lang)
    tables["profile"] = pd.DataFrame({
        ("Baggrundsforhold" if da else "Covariate"): prof["covariate"].map(cov_lbl),
        P: [fmt_share(r, "participants") for _, r in prof.iterrows()],
        ("Potentielle kontrolpersoner" if da else "Eligible pool"): [fmt_share(r, "eligible_pool") for _, r in prof.iterrows()],
        C: [fmt_share(r, "matched_controls") for _, r in prof.iterrows()],
        "SMD før" if da else "SMD before": prof["smd_before"].map(lambda v: num(v, 2, lang)),
        "SMD efter" if da else "SMD after": prof["smd_after"].map(lambda v: num(v, 2, lang)),
    })

    t1 = read["table1"]
    tables["table1"] = pd.DataFrame({
        "Status": t1["outcome"].map(status_lbl),
        f"{P} (n)": t1["n_participant"].astype(str),
        f"{P} (%)": t1["share_participant"].map(lambda v: pct(v, 0, lang)),
        f"{C} (n, {'vægtet' if da else 'weighted'})": t1["n_control"].astype(str),
        f"{C} (%)": t1["share_control"].map(lambda v: pct(v, 0, lang)),
    })
    sb = t1.dropna(subset=["share_participant", "share_control"])
    sb = sb[sb["outcome"].isin(OUTCOMES)].rename(columns={"share_participant": "p", "share_control": "c"})
    fp = tmp_fig / "table1_shares"
    figures.save(figures.share_bars(sb[["outcome", "p", "c"]], ["p", "c"], [P, C], status_lbl,
                                    text("table1_title", lang)), fp)

    eff = read["effects"]
    raw["effects_raw"] = eff
    tables["effects"] = pd.DataFrame({
        "Udfald" if da else "Outcome": eff["outcome"].map(status_lbl),
        f"{P} (%)": eff["share_participants"].map(lambda v: pct(v, 1, lang)),
        f"{C} (%)": eff["share_controls"].map(lambda v: pct(v, 1, lang)),
        ("Forskel (pp)" if da else "Difference (pp)"): eff["estimate"].map(lambda v: "" if v == "" or pd.isna(v) else num(100 * float(v), 1, lang)),
        ("95 % KI" if da else "95 % CI"): [("" if pd.isna(lo) or lo == "" else f"{num(100 * float(lo), 1, lang)} – {num(100 * float(hi), 1, lang)}")
                                            for lo, hi in zip(eff["ci_low"], eff["ci_high"])],
        "p (Boschloo)": eff["p_boschloo"].map(lambda v: pval(v, lang)),
        "p (Fisher)": eff["p_fisher"].map(lambda v: pval(v, lang)),
        ("p (regression)" if not da else "p (regression, klynge-robust)"): eff["p_regression"].map(lambda v: pval(v, lang)),
        "p (Holm)": eff["p_adjusted"].map(lambda v: pval(v, lang)),
        ("Signifikant" if da else "Significant"): eff["significant"].map(lambda v: _yes(v, lang)),
    })
    shown = eff[eff["suppressed"].astype(str) != "True"].copy()
    for col in ("estimate", "ci_low", "ci_high"):
        shown[col] = shown[col].astype(float)
    fe = tmp_fig / "effects"
    figures.save(figures.effect_plot(shown, status_lbl, text("effects_title", lang), text("pp", lang)), fe)

    hw = read["hours_wage"]
    tables["hours_wage"] = pd.DataFrame({
        "": hw["variable"].map({"timer": "Timer pr. måned" if da else "Hours per month", "loen": "Løn pr. måned (kr.)" if da else "Wage per month (DKK)"}),
        f"{P} (n)": hw["n_participants"], f"{P} ({'gns.' if da else 'mean'})": hw["mean_participants"].map(lambda v: num(v, 1, lang)),
        f"{C} (n)": hw["n_controls"], f"{C} ({'gns.' if da else 'mean'})": hw["mean_controls"].map(lambda v: num(v, 1, lang)),
        "p (Welch)": hw["p_welch"].map(lambda v: pval(v, lang)), "p (Mann-Whitney)": hw["p_mannwhitney"].map(lambda v: pval(v, lang)),
    })
    sg = read["subgroups"]
    if len(sg):
        tables["subgroups"] = pd.DataFrame({
            ("Undergruppe" if da else "Subgroup"): [f"{cov_lbl.get(s, s)}: {_yes(str(bool(float(lv))), lang)}" for s, lv in zip(sg["subgroup"], sg["level"])],
            "Udfald" if da else "Outcome": sg["outcome"].map(status_lbl),
            f"{P} (n)": sg["n_participants"],
            f"{P} (%)": sg["share_participants"].map(lambda v: pct(v, 0, lang)),
            f"{C} (%)": sg["share_controls"].map(lambda v: pct(v, 0, lang)),
            "p": sg["p_value"].map(lambda v: pval(v, lang)),
        })
    pl = read["placebo"]
    tables["placebo"] = pd.DataFrame({
        "Udfald" if da else "Outcome": pl["outcome"].map(status_lbl),
        ("Måneder før start" if da else "Months before start"): pl["months_before_index"],
        f"{P} (%)": pl["share_participants"].map(lambda v: pct(v, 1, lang)),
        f"{C} (%)": pl["share_controls"].map(lambda v: pct(v, 1, lang)),
        "p": pl["p_value"].map(lambda v: pval(v, lang)),
        "p (Holm)": pl["p_adjusted"].map(lambda v: pval(v, lang)),
        ("Signifikant" if da else "Significant"): pl["significant"].map(lambda v: _yes(v, lang)),
    })
    dg = read["diagnostics"]
    tables["diagnostics"] = pd.DataFrame({
        "Udfald" if da else "Outcome": dg["outcome"].map(status_lbl),
        ("Mindste påviselige forskel (pp)" if da else "Minimum detectable difference (pp)"): dg["minimum_detectable_difference"].map(lambda v: num(100 * v, 1, lang)),
        ("Observeret forskel (pp)" if da else "Observed difference (pp)"): dg["observed_difference"].map(lambda v: "" if v == "" or pd.isna(v) else num(100 * float(v), 1, lang)),
        ("Deltagere nødvendige (80 % styrke)" if da else "Participants needed (80 % power)"): dg["participants_needed"].map(lambda v: "" if v == "" or pd.isna(v) else num(v, 0, lang)),
        ("Advarsler" if da else "Warnings"): dg["warnings"].fillna("").map(lambda w: _warning_da(w) if da else w),
    })

    figs = {f"table1:{text('table1_title', lang)}": f"{fp}.png",
            f"effects:{text('effects_title', lang)}": f"{fe}.png",
            f"profile:{text('love_title', lang)}": smk.input.love,
            f"profile:{text('overlap_title', lang)}": smk.input.overlap}
    prog_figs = {}
    if c["progression"]["enabled"]:
        pf = pd.read_csv(smk.input.prog_flow, keep_default_na=False)
        pf["step"] = pf["step"].map(lambda s: FLOW_DA.get(s, s) if da else s.replace("_", " "))
        if da:
            pf["reason"] = pf["reason"].fillna("").map(_reason_da)
        tables["progression_flow"] = pf.rename(columns={
            "step": "Trin" if da else "Step", "n": "Antal" if da else "n",
            "excluded": "Udeladt" if da else "Excluded", "reason": "Årsag" if da else "Reason"})
        it = pd.read_csv(smk.input.prog_items, keep_default_na=False, na_values=[""])
        ia = it[it["group"] == "all"]
        tables["progression_items"] = pd.DataFrame({
            "Spørgsmål" if da else "Item": ia["item"].map(item_lbl) + ia["indicator"].map(lambda v: " *" if str(v) == "True" else ""),
            "n": ia["n"],
            "Positiv" if da else "Up": ia["share_up"].map(lambda v: pct(v, 0, lang)),
            "Uændret" if da else "Same": ia["share_same"].map(lambda v: pct(v, 0, lang)),
            "Negativ" if da else "Down": ia["share_down"].map(lambda v: pct(v, 0, lang)),
            ("Mål" if da else "Target"): ia["target"].map(lambda v: pct(v, 0, lang)),
            ("p mod mål" if da else "p vs target"): ia["p_vs_target"].map(lambda v: pval(v, lang)),
            ("Negative der startede usikre" if da else "Down who started unsure"): ia["share_of_down_started_unsure"].map(lambda v: pct(v, 0, lang)),
        })
        w5 = pd.read_csv(smk.input.who5)
        names = {"all": "I alt" if da else "All", "657": "Herning", "791": "Viborg", "621": "Kolding"}
        tables["who5"] = pd.DataFrame({
            "": w5["group"].astype(str).map(lambda g: names.get(g, g)), "n": w5["n"],
            "Start": w5["mean_start"].map(lambda v: num(v, 0, lang)),
            ("Slut" if da else "End"): w5["mean_end"].map(lambda v: num(v, 0, lang)),
            ("Ændring (95 % KI)" if da else "Change (95 % CI)"): [f"{num(m, 1, lang)} ({num(lo, 1, lang)} – {num(hi, 1, lang)})" for m, lo, hi in zip(w5["mean_change"], w5["ci_change_low"], w5["ci_change_high"])],
            "p (t)": w5["p_paired_t"].map(lambda v: pval(v, lang)),
            "p (Wilcoxon)": w5["p_wilcoxon"].map(lambda v: pval(v, lang)),
            ("Forbedret ≥10 point" if da else "Improved ≥10 points"): w5["share_improved_meaningfully"].map(lambda v: pct(v, 0, lang)),
        })
        tables["who5_bands"] = pd.read_csv(smk.input.bands, keep_default_na=False)
        for name in ("bip_items", "who5_items", "who5_means", "who5_bands"):
            prog_figs[name] = str(Path(smk.input.prog_flow).parent / f"{name}.png")
            figs[f"progression:{name.replace('_', ' ').upper() if not da else name.replace('_', ' ')}"] = prog_figs[name]

    qc = read["qc"].set_index(["file", "item"])["value"]
    el = c["eligibility"]
    m = c["matching"]
    ms = read["match_summary"].set_index("sample")
    sex_text = {(1,): "mænd" if da else "men", (2,): "kvinder" if da else "women"}.get(tuple(el["sex"]), "begge køn" if da else "both sexes")
    origin_text = {True: "ikke-vestlig oprindelse" if da else "non-Western origin",
                   False: "dansk eller vestlig oprindelse" if da else "Danish or Western origin"}.get(el["non_western"], "enhver oprindelse" if da else "any origin")
    cov_list = "".join(f"<li>{html.escape(cov_lbl[v])}" + ("" if da else f": {html.escape(COVARIATES[v])}") + "</li>" for v in covs)
    method_text = (
        f"<p>{'Registerudtræk' if da else 'Register extract'}: DREAM {qc.get(('dream', 'first_week'), '')} – "
        f"{qc.get(('dream', 'last_week'), '')}, {qc.get(('dream', 'persons'), '')} {'personer' if da else 'persons'}; "
        f"eIndkomst {qc.get(('eindkomst', 'first_month'), '')} – {qc.get(('eindkomst', 'last_month'), '')}.</p>"
        f"<p>{'Kontrolgruppen er fundet blandt personer, der i deltagerens startmåned opfyldte' if da else 'Controls come from persons who, in the participant’s start month, met'}: "
        f"{sex_text}, {origin_text}, "
        f"{'alder' if da else 'age'} {el['age_min']}–{el['age_max']}, {'ydelse' if da else 'benefit'} {', '.join(el['benefit_groups'])}, "
        f"{_yes(str(el['no_employment_in_index_month']), lang)} {'til krav om ingen ordinær løn i måneden' if da else 'to requiring no ordinary wage in the month'}; "
        f"{'ingen deltagere' if da else 'never referred'} (risk-set design).</p>"
        f"<p>Propensity score: {'ustraffet logistisk regression' if da else 'unpenalised logistic regression'} (statsmodels); "
        f"nearest neighbour {m['ratio']}:1 {'uden' if da and not m['replace'] else 'med' if da else 'without' if not m['replace'] else 'with'} "
        f"{'tilbagelægning' if da else 'replacement'}, caliper {m['caliper']} SD {'af logit' if da else 'of the logit'}, "
        f"{'eksakt på startmåned' if da else 'exact on start month'}, m_order = {m['m_order']}. "
        f"{'Matchede deltagere' if da else 'Matched participants'}: {int(float(ms.loc['Matched', 'treated']))}; "
        f"{'kontrolpersoner' if da else 'controls'}: {int(float(ms.loc['Matched', 'control']))} "
        f"({int(float(ms.loc['Controls per matched participant (min)', 'control']))}–{int(float(ms.loc['Controls per matched participant (max)', 'control']))} {'pr. deltager' if da else 'per participant'}).</p>"
        f"<p>{'Baggrundsforhold' if da else 'Covariates'}:</p><ul>{cov_list}</ul>"
        f"<p>{'Opfølgningsmåned' if da else 'Outcome month'}: {'slutmåned' if da else 'end month'} + {c['follow_up_months']}; "
        f"{'kontrolpersoner får deltagerens datoer' if da and c['control_dates'] == 'matched' else 'controls take their participant’s dates' if c['control_dates'] == 'matched' else c['control_dates']}. "
        f"{'Primær test' if da else 'Primary test'}: {c['effects']['primary_test']} "
        f"({'signifikansniveau' if da else 'level'} {c['effects']['alpha']}); "
        f"{'fordelingstest' if da else 'distribution test'} p = {pval(read['distribution'].loc[0, 'p_value'], lang)}. "
        + ("De to hovedudfald er fastlagt på forhånd; de otte statusrækker er én gruppe af test, og deres signifikans "
           "vurderes på Holm-justerede p-værdier." if da else
           "The two headline outcomes are pre-specified; the eight status rows are one family of tests whose "
           "significance is judged on Holm-adjusted p-values.") + "</p>")
    caveats = ([
        "Designet er kvasi-eksperimentelt: kontrolgruppen er sammenlignelig på de målte baggrundsforhold, men uobserverede forskelle (fx motivation eller helbred ud over hospitalskontakter) kan påvirke resultatet.",
        "Effekten er målt i én kalendermåned; den siger ikke, om effekten varer ved.",
        "Små grupper giver brede konfidensintervaller; se designdiagnostikken.",
        "Progressionsmålingen har ingen kontrolgruppe og omfatter kun deltagere med både start- og slutskema.",
    ] if da else [
        "The design is quasi-experimental: controls are comparable on the measured covariates, but unobserved differences (e.g. motivation or health beyond hospital contacts) may bias the result.",
        "The effect is measured in one calendar month; it says nothing about persistence.",
        "Small groups give wide confidence intervals; see the design diagnostics.",
        "The progression analysis has no control group and covers only participants with both questionnaires.",
    ])
    extract = ctx.extract
    provenance = {"cohort": c["name"], "cohort_file": c["source"], "extract": p["extract_dir"],
                  "config_hash": p["config_hash"], "sibeval_version": __version__, "run_date": run_date(),
                  "suppression": f"min_cell = {k}"}
    for f, h in extract.checksums().items():
        provenance[f"sha256:{f}"] = h
    doc = build_html(c, {**tables, **raw}, figs, p["labels"], provenance, method_text, caveats)

    # figures folder: every figure as PNG and SVG
    for src in [*Path(smk.input.love).parent.glob("*.p*g"), *Path(smk.input.love).parent.glob("*.svg")]:
        shutil.copy(src, tmp_fig / src.name)
    for name, png in prog_figs.items():
        for ext in ("png", "svg"):
            shutil.copy(Path(png).with_suffix(f".{ext}"), tmp_fig / f"{name}.{ext}")
    sheets = {"flow": read["flow"], "profile": prof.drop(columns=["n_pool_rows"]), "table1": t1,
              "effects": eff, "status_distribution": read["distribution"], "hours_wage": hw,
              "subgroups": sg, "placebo": pl, "diagnostics": dg, "balance": read["balance"],
              "match_summary": read["match_summary"]}
    if c["progression"]["enabled"]:
        sheets.update({"progression_flow": pd.read_csv(smk.input.prog_flow), "progression_items": it,
                       "who5": w5, "who5_bands": tables["who5_bands"]})
    readme = {**provenance, "language": lang, "title": c["title"],
              "sheets": ", ".join(sheets), "config_sha256_note": "hash of the validated cohort config and code table"}
    with atomic_path(smk.output.xlsx) as tmp:
        write_workbook(tmp, sheets, readme)
    with atomic_path(smk.output.html) as tmp:
        Path(tmp).write_text(doc, encoding="utf-8")
    shutil.rmtree(fig_dir, ignore_errors=True)
    tmp_fig.rename(fig_dir)
    log.info("report: %s (%d KiB)", smk.output.html, len(doc) // 1024)


run(snakemake, main)
