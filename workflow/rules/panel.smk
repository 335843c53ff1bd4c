rule build_panel:
    """Person x month panel of the extract: benefit group, wage, hours, residence, death."""
    input:
        normalised("dream.parquet", "eindkomst.parquet", "vnds.parquet", "dod.parquet", "summary.csv"),
    output:
        "results/extracts/interim/{extract}/panel.parquet",
    params:
        run=rule_params(codes=True, extract=True),
    log:
        "logs/extracts/{extract}/build_panel.log",
    benchmark:
        "benchmarks/extracts/{extract}/build_panel.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000, 12000),
        runtime=runtime(10, 20),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/build_panel.py"


rule build_candidates:
    """Participant flow, eligible (person, index month) candidates and covariates."""
    input:
        cohort_files,
        normalised("dream.parquet", "bef.parquet", "vnds.parquet", "udda.parquet", "lpr.parquet", "summary.csv"),
        panel=panel_file,
    output:
        candidates="results/{cohort}/interim/candidates.parquet",
        participants="results/{cohort}/interim/participants.parquet",
        flow="results/{cohort}/interim/flow_participants.csv",
        funnel="results/{cohort}/interim/tables/eligibility_funnel.csv",
    params:
        run=rule_params("participants_file", "municipalities", "eligibility", "non_western_countries_exempt",
                        "birth_date_problems", "disclosure.min_cell", codes=True, extract=True),
    log:
        "logs/{cohort}/build_candidates.log",
    benchmark:
        "benchmarks/{cohort}/build_candidates.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000, 8000),
        runtime=runtime(10, 20),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/build_candidates.py"
