rule build_panel:
    """Person x month panel: benefit group, wage, hours, residence, death."""
    input:
        files=extract_files,
        qc="results/{cohort}/qc/extract_summary.csv",
    output:
        "results/{cohort}/interim/panel.parquet",
    params:
        run=run_params,
    log:
        "logs/{cohort}/build_panel.log",
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/build_panel.py"


rule build_candidates:
    """Participant flow, eligible (person, index month) candidates and covariates."""
    input:
        files=extract_files,
        panel="results/{cohort}/interim/panel.parquet",
    output:
        candidates="results/{cohort}/interim/candidates.parquet",
        participants="results/{cohort}/interim/participants.parquet",
        flow="results/{cohort}/interim/flow_participants.csv",
        funnel=report(
            "results/{cohort}/qc/eligibility_funnel.csv",
            caption="../report/eligibility_funnel.rst",
            category="1. Data",
        ),
    params:
        run=run_params,
    log:
        "logs/{cohort}/build_candidates.log",
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/build_candidates.py"
