rule classify_outcomes:
    """Status in the outcome month for participants and matched controls (Table 1)."""
    input:
        panel=panel_file,
        matched="results/{cohort}/interim/matched.parquet",
        participants="results/{cohort}/interim/participants.parquet",
        flow="results/{cohort}/interim/flow_participants.csv",
    output:
        status="results/{cohort}/interim/status_month.parquet",
        # the analysed persons' rows of the panel, for effects (not the whole population's again)
        panel="results/{cohort}/interim/panel_analysed.parquet",
        table1="results/{cohort}/interim/tables/table1.csv",
        flow="results/{cohort}/interim/tables/flow.csv",
        flow_reasons="results/{cohort}/interim/tables/flow_reasons.csv",
    params:
        run=rule_params("follow_up_months", "control_dates", "beyond_coverage", "disclosure.min_cell", "outcomes",
                        codes=True),
    log:
        "results/{cohort}/interim/logs/classify_outcomes.log",
    priority: 10   # on the longest path: before the small rules ready at the same time
    group: COHORT_JOB
    threads: 1
    resources:
        mem_mb=mem_mb(800, 600),
        runtime=runtime(5, 5),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/classify_outcomes.py"
