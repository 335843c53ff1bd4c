rule publish:
    """The publication boundary: joint primary and complementary suppression of every
    table of a cohort, proved by the attacker audit; nothing is written if a cell leaks."""
    input:
        unpack(analysis_tables),
    output:
        **{t.name: published_output(t) for t in TABLES.PUBLISHED},
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
