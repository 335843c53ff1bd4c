rule match:
    """Propensity-score matching of participants to eligible candidates; balance."""
    input:
        candidates="results/{cohort}/interim/candidates.parquet",
    output:
        matched="results/{cohort}/interim/matched.parquet",
        balance=report(
            "results/{cohort}/matching/balance.csv",
            caption="../report/balance.rst",
            category="2. Matching",
        ),
        summary=report(
            "results/{cohort}/matching/match_summary.csv",
            caption="../report/match_summary.rst",
            category="2. Matching",
        ),
        love=report(
            "results/{cohort}/matching/love_plot.png",
            caption="../report/love_plot.rst",
            category="2. Matching",
        ),
        love_svg="results/{cohort}/matching/love_plot.svg",
        overlap=report(
            "results/{cohort}/matching/overlap.png",
            caption="../report/overlap.rst",
            category="2. Matching",
        ),
        overlap_svg="results/{cohort}/matching/overlap.svg",
    params:
        run=rule_params("matching", "covariates", "language", labels=("covariates", "samples", "groups")),
    log:
        "logs/{cohort}/match.log",
    benchmark:
        "benchmarks/{cohort}/match.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000, 4000),
        runtime=runtime(10, 10),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/match.py"
