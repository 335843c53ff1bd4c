# The design stage: eligible control candidates per index month and the propensity-score match.
rule build_candidates:
    """Participant flow, eligible (person, index month) candidates and covariates."""
    input:
        cohort_files,
        normalised("dream.parquet", "bef.parquet", "vnds.parquet", "udda.parquet", "lpr.parquet", "summary.csv"),
        panel=panel_file,
        blocks=blocks_dir,
        # Not read: the cohort's QC summary first, so that its participant list and questionnaires
        # are checked (and the summary written) before the search, and on a cluster the summary
        # runs in the cohort's job instead of a job of its own (bench/README.md, "One job per cohort").
        qc="results/{cohort}/interim/tables/extract_summary.csv",
    output:
        candidates="results/{cohort}/interim/candidates.parquet",
        participants="results/{cohort}/interim/participants.parquet",
        flow="results/{cohort}/interim/flow_participants.csv",
        funnel="results/{cohort}/interim/tables/eligibility_funnel.csv",
    params:
        run=rule_params("participants_file", "municipalities", "eligibility", "non_western_countries_exempt",
                        "birth_date_problems", "disclosure.min_cell", codes=True, extract=True),
    log:
        "results/{cohort}/interim/logs/build_candidates.log",
    priority: 10   # on the longest path: before the QC tables and progression ready at the same time
    group: COHORT_JOB
    threads: more_than_one_block   # then half the blocks of persons in a second process
    resources:
        # one process: 0.9 GiB at 10^6, 1.1 GiB at 6x10^6 persons; the second about 0.65 GiB (bench/README.md)
        mem_mb=mem_mb(1700, 400, per_thread=800),
        runtime=runtime(10, 20),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/build_candidates.py"


rule match:
    """Propensity-score matching of participants to eligible candidates; balance."""
    input:
        candidates="results/{cohort}/interim/candidates.parquet",
    output:
        matched="results/{cohort}/interim/matched.parquet",
        balance="results/{cohort}/interim/tables/balance.csv",
        summary="results/{cohort}/interim/tables/match_summary.csv",
        design="results/{cohort}/interim/tables/design.csv",
        set_sizes="results/{cohort}/interim/tables/set_sizes.csv",
        covariate_counts="results/{cohort}/interim/tables/covariate_counts.csv",
        overlap="results/{cohort}/interim/tables/overlap.csv",
    params:
        run=rule_params("matching", "covariates"),
    log:
        "results/{cohort}/interim/logs/match.log",
    priority: 10   # on the longest path: before the small rules ready at the same time
    group: COHORT_JOB
    threads: 1
    resources:
        mem_mb=mem_mb(1000, 400),   # one copy of the candidates: 0.65 GiB at 10^6 (cgroup), 1.5 GiB for 3x10^6 rows
        runtime=runtime(10, 10),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/match.py"
