rule progression:
    """BIP and WHO-5 start vs end: item shares, WHO-5 scores, bands, figures."""
    input:
        cohort_files,
        qc="results/{cohort}/qc/extract_summary.csv",
    output:
        flow="results/{cohort}/progression/flow.csv",
        item_table=report(
            "results/{cohort}/progression/items.csv",
            caption="../report/progression_items.rst",
            category="5. Progression",
        ),
        who5=report(
            "results/{cohort}/progression/who5.csv",
            caption="../report/who5.rst",
            category="5. Progression",
        ),
        bands="results/{cohort}/progression/who5_bands.csv",
        fig_bip=report(
            "results/{cohort}/progression/bip_items.png",
            caption="../report/progression_items.rst",
            category="5. Progression",
        ),
        fig_who5_items="results/{cohort}/progression/who5_items.png",
        fig_who5=report(
            "results/{cohort}/progression/who5_means.png",
            caption="../report/who5.rst",
            category="5. Progression",
        ),
        fig_bands="results/{cohort}/progression/who5_bands.png",
        svgs=[f"results/{{cohort}}/progression/{f}.svg" for f in ("bip_items", "who5_items", "who5_means", "who5_bands")],
    params:
        run=rule_params("participants_file", "progression", "municipalities", "language",
                        "disclosure.min_cell", labels=("items",), extract=True),
    log:
        "logs/{cohort}/progression.log",
    benchmark:
        "benchmarks/{cohort}/progression.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(500, 0),
        runtime=runtime(5, 0),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/progression.py"
