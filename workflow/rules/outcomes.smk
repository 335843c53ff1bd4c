rule classify_outcomes:
    """Status in the outcome month for participants and matched controls (Table 1)."""
    input:
        panel="results/{cohort}/interim/panel.parquet",
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
        run=run_params,
    log:
        "logs/{cohort}/classify_outcomes.log",
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/classify_outcomes.py"
