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
    priority: 10   # on the longest path: before the small rules ready at the same time
    threads: 1
    resources:
        mem_mb=mem_mb(900, 0),   # the published tables only: about 0.4 GiB at any size (cgroup)
        runtime=runtime(10, 5),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/report.py"


rule note_in_language:
    """The effect note in one of the cohort's `languages` (effect_note.<lang>.html), from the
    same published tables as the report; its figures are embedded, so nothing else is written.
    In the cohort's own language it is the report's effect_note.html, copied."""
    input:
        unpack(published_tables),
        unpack(own_language_note),
        checksums="results/{cohort}/published/checksums.csv",
    output:
        report(
            "results/{cohort}/report/effect_note.{lang}.html",
            caption="../report/effect_note.rst",
            category="6. Report",
        ),
    wildcard_constraints:
        lang="[a-z][a-z]",
    params:
        run=rule_params(labels=True, extract=True, whole=True),
    log:
        "results/{cohort}/interim/logs/note_{lang}.log",
    threads: 1
    resources:
        mem_mb=mem_mb(900, 0),   # the published tables only: about 0.4 GiB at any size (cgroup)
        runtime=runtime(10, 5),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/note_in_language.py"


rule payment_workbook:
    """The live payment workbook (payment_model.xlsx) in the cohort's language: results on top,
    the inputs in one marked block, formulas with the model's values cached."""
    input:
        unpack(measured_decay_input),
        effects="results/{cohort}/published/effects.csv",
        account="results/{cohort}/economics/account.csv",
        prices="results/{cohort}/economics/subgroup_payments.csv",
    output:
        report(
            "results/{cohort}/economics/payment_model.xlsx",
            caption="../report/economics.rst",
            category="6. Economics",
        ),
    params:
        economics=lambda wc: COHORTS[wc.cohort]["economics"],
        cohort_file=lambda wc: COHORTS[wc.cohort]["source"],
        language=lambda wc: COHORTS[wc.cohort]["language"],
        title=lambda wc: COHORTS[wc.cohort]["title"],
        labels=LABELS,
        wording=WORDING,
    log:
        "results/{cohort}/interim/logs/payment_workbook.log",
    threads: 1
    resources:
        mem_mb=mem_mb(600, 0),
        runtime=runtime(5, 0),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/payment_workbook.py"


rule index:
    """results/index.html: every cohort with results, its headline effects and its note."""
    input:
        summaries=expand("results/{cohort}/report/summary.json", cohort=list(COHORTS)),
        notes=language_notes(),
    output:
        report("results/index.html", caption="../report/index.rst", category="6. Report"),
    params:
        language=config["language"],
        labels=LABELS,
        wording=WORDING,
        cohort_dir=config["cohort_dir"],
    log:
        "results/interim/logs/index.log",
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
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/release.py"
