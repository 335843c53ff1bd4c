rule report:
    """The effect note (HTML), the workbook and the figures, from the published tables only."""
    input:
        unpack(published_tables),
        checksums="results/{cohort}/published/checksums.csv",
    output:
        html=report(
            "results/{cohort}/report/effect_note.html",
            caption="../report/effect_note.rst",
            category="6. Report",
        ),
        xlsx=report(
            "results/{cohort}/report/tables.xlsx",
            caption="../report/tables.rst",
            category="6. Report",
        ),
        figures=directory("results/{cohort}/report/figures"),
        summary="results/{cohort}/report/summary.json",
    params:
        run=rule_params(labels=True, extract=True, whole=True),
    log:
        "results/{cohort}/interim/logs/report.log",
    benchmark:
        "benchmarks/{cohort}/report.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb(1000, 2000),
        runtime=runtime(10, 5),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/report.py"


rule index:
    """results/index.html: every cohort with results, its headline effects and its note."""
    input:
        summaries=expand("results/{cohort}/report/summary.json", cohort=list(COHORTS)),
    output:
        report("results/index.html", caption="../report/index.rst", category="6. Report"),
    params:
        language=config["language"],
        labels=LABELS,
        cohort_dir=config["cohort_dir"],
    log:
        "results/interim/logs/index.log",
    benchmark:
        "benchmarks/index.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/index.py"


rule release:
    """The release manifest: every file that may leave (published and QC tables, notes,
    workbooks, figures, payment models, disclosure audits, the index), with sha256."""
    input:
        release_files(),
    output:
        "results/release.csv",
    log:
        "results/interim/logs/release.log",
    benchmark:
        "benchmarks/release.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/release.py"
