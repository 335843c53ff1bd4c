rule report:
    """The effect note (HTML), the workbook of its tables and the figures folder."""
    input:
        unpack(progression_inputs),
        qc="results/{cohort}/qc/extract_summary.csv",
        flow="results/{cohort}/outcomes/flow.csv",
        table1="results/{cohort}/outcomes/table1.csv",
        effects="results/{cohort}/effects/effects.csv",
        distribution="results/{cohort}/effects/status_distribution.csv",
        hours_wage="results/{cohort}/effects/hours_wage.csv",
        subgroups="results/{cohort}/effects/subgroups.csv",
        placebo="results/{cohort}/effects/placebo.csv",
        diagnostics="results/{cohort}/effects/diagnostics.csv",
        balance="results/{cohort}/matching/balance.csv",
        match_summary="results/{cohort}/matching/match_summary.csv",
        love="results/{cohort}/matching/love_plot.png",
        overlap="results/{cohort}/matching/overlap.png",
        candidates="results/{cohort}/interim/candidates.parquet",
        matched="results/{cohort}/interim/matched.parquet",
        checksums=normalised("checksums.csv"),
    output:
        html=report(
            "results/{cohort}/report/effect_note.html",
            caption="../report/effect_note.rst",
            category="6. Report",
        ),
        xlsx=report(
            "results/{cohort}/report/tables.xlsx",
            caption="../report/tables.rst",
            category="6. Report",
        ),
        figures=directory("results/{cohort}/report/figures"),
    params:
        run=rule_params(labels=True, extract=True, whole=True),
    log:
        "logs/{cohort}/report.log",
    benchmark:
        "benchmarks/{cohort}/report.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000, 2000),
        runtime=runtime(10, 5),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/report.py"


rule index:
    """results/index.html: every cohort with its headline effects and a link to its note."""
    input:
        effects=expand("results/{cohort}/effects/effects.csv", cohort=list(COHORTS)),
        notes=expand("results/{cohort}/report/effect_note.html", cohort=list(COHORTS)),
        flows=expand("results/{cohort}/outcomes/flow.csv", cohort=list(COHORTS)),
    output:
        report("results/index.html", caption="../report/index.rst", category="6. Report"),
    params:
        cohorts=lambda wc: {n: {"title": c["title"], "follow_up": c["follow_up_months"]} for n, c in COHORTS.items()},
    log:
        "logs/index.log",
    benchmark:
        "benchmarks/index.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/index.py"
