# One rule per demo extract: generate it when it is missing (never overwrites one).
for _name in DEMO_EXTRACTS:

    rule:
        name:
            f"demo_extract_{_name}"
        output:
            demo_outputs(_name),
        params:
            demo=config["extracts"][_name]["demo"],
        log:
            f"logs/demo_extract/{_name}.log",
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
