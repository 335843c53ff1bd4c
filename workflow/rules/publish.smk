rule publish:
    """The publication boundary: joint primary and complementary suppression of every
    table of a cohort, proved by the attacker audit; nothing is written if a cell leaks."""
    input:
        unpack(boundary_inputs("publish")),
    output:
        **boundary_outputs("publish"),
        audit=report(
            "results/{cohort}/disclosure/audit.csv",
            caption="../report/audit.rst",
            category="7. Disclosure",
        ),
        summary="results/{cohort}/disclosure/audit_summary.txt",
    params:
        run=rule_params("disclosure", "matching.replace", "progression.enabled"),
    log:
        "logs/{cohort}/publish.log",
    benchmark:
        "benchmarks/{cohort}/publish.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/publish.py"


rule publish_qc:
    """The QC tables through the same boundary: the extract summary and the eligibility
    funnel with small counts hidden, written even when the analysis stops."""
    input:
        unpack(boundary_inputs("publish_qc")),
    output:
        **boundary_outputs("publish_qc"),
    params:
        run=rule_params("disclosure", "matching.replace"),
    log:
        "logs/{cohort}/publish_qc.log",
    benchmark:
        "benchmarks/{cohort}/publish_qc.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/publish.py"
