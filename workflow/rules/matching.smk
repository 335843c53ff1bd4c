rule match:
    """Propensity-score matching of participants to eligible candidates; balance."""
    input:
        candidates="results/{cohort}/interim/candidates.parquet",
    output:
        matched="results/{cohort}/interim/matched.parquet",
        balance="results/{cohort}/interim/tables/balance.csv",
        summary="results/{cohort}/interim/tables/match_summary.csv",
        design="results/{cohort}/interim/tables/design.csv",
        covariate_counts="results/{cohort}/interim/tables/covariate_counts.csv",
        overlap="results/{cohort}/interim/tables/overlap.csv",
    params:
        run=rule_params("matching", "covariates"),
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
