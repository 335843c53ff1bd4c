rule classify_outcomes:
    """Status in the outcome month for participants and matched controls (Table 1)."""
    input:
        panel=panel_file,
        matched="results/{cohort}/interim/matched.parquet",
        participants="results/{cohort}/interim/participants.parquet",
        flow="results/{cohort}/interim/flow_participants.csv",
    output:
        status="results/{cohort}/interim/status_month.parquet",
        table1=report(
            "results/{cohort}/outcomes/table1.csv",
            caption="../report/table1.rst",
            category="3. Outcomes",
        ),
        flow="results/{cohort}/outcomes/flow.csv",
    params:
        run=rule_params("follow_up_months", "control_dates", "beyond_coverage", "disclosure.min_cell",
                        codes=True),
    log:
        "logs/{cohort}/classify_outcomes.log",
    benchmark:
        "benchmarks/{cohort}/classify_outcomes.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(500, 1000),
        runtime=runtime(5, 5),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/classify_outcomes.py"
