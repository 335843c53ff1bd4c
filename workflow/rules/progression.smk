rule progression:
    """BIP and WHO-5 start vs end: item shares, WHO-5 scores, bands, figures."""
    input:
        cohort_files,
        qc="results/{cohort}/interim/tables/extract_summary.csv",  # questionnaires validated first
    output:
        flow="results/{cohort}/interim/tables/progression_flow.csv",
        item_table="results/{cohort}/interim/tables/progression_items.csv",
        who5="results/{cohort}/interim/tables/who5.csv",
        bands="results/{cohort}/interim/tables/who5_bands.csv",
    params:
        run=rule_params("participants_file", "progression", "municipalities", labels=("items",),
                        extract=True),
    log:
        "results/{cohort}/interim/logs/progression.log",
    threads: 1
    resources:
        mem_mb=mem_mb(650, 0),
        runtime=runtime(5, 0),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/progression.py"
