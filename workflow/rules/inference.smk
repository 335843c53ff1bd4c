rule effects:
    """Shares, differences, CIs and p-values; distribution, hours/wage, subgroups, placebo,
    sensitivity to hidden bias; the headline outcomes month by month (issue 25)."""
    input:
        status="results/{cohort}/interim/status_month.parquet",
        matched="results/{cohort}/interim/matched.parquet",
        panel="results/{cohort}/interim/panel_analysed.parquet",
    output:
        effects="results/{cohort}/interim/tables/effects.csv",
        distribution="results/{cohort}/interim/tables/status_distribution.csv",
        hours_wage="results/{cohort}/interim/tables/hours_wage.csv",
        subgroups="results/{cohort}/interim/tables/subgroups.csv",
        placebo="results/{cohort}/interim/tables/placebo.csv",
        diagnostics="results/{cohort}/interim/tables/diagnostics.csv",
        sensitivity="results/{cohort}/interim/tables/sensitivity.csv",
        trajectory="results/{cohort}/interim/tables/trajectory.csv",
        decay="results/{cohort}/interim/tables/decay.csv",
    params:
        run=rule_params("effects", "covariates", "follow_up_months", "outcomes", "trajectory.enabled",
                        "trajectory.months_before", "trajectory.draws", "trajectory.seed", "trajectory.min_persons",
                        codes=True),
    log:
        "results/{cohort}/interim/logs/effects.log",
    # on a cluster's submitting host where its inputs are the matched sample (workflow/rules/common.smk)
    localrule: EFFECTS_LOCAL
    priority: 10   # on the longest path: before the small rules ready at the same time
    threads: 1
    resources:
        # grows with the extract for a job of its own (weighting or no matching: every candidate)
        mem_mb=mem_mb(900, 800),
        runtime=runtime(10, 5),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/effects.py"

