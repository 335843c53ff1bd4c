rule demo_extract:
    """Generate a synthetic demo extract when it is missing (never overwrites one)."""
    output:
        [protected(f"data/raw/{{extract}}/{f}") for f in DEMO_FILES],
    params:
        demo=lambda wc: config["extracts"][wc.extract]["demo"],
    log:
        "logs/demo_extract/{extract}.log",
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/demo_extract.py"


rule validate_extract:
    """Check every file against DATA_CONTRACT.md and summarise rows, persons, coverage, codes."""
    input:
        extract_files,
    output:
        report(
            "results/{cohort}/qc/extract_summary.csv",
            caption="../report/extract_summary.rst",
            category="1. Data",
        ),
    params:
        run=run_params,
    log:
        "logs/{cohort}/validate_extract.log",
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/validate_extract.py"
