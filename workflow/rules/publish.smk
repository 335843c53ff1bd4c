rule publish:
    """The publication boundary: joint primary and complementary suppression of every
    table of a cohort, proved by the attacker audit; nothing is written if a cell leaks."""
    input:
        unpack(publish_inputs),
    output:
        **{t.name: published_output(t) for t in TABLES.PUBLISHED if t.rule == "publish"},
        # for the output checker, not in the release nor in `snakemake --report`
        audit="results/{cohort}/disclosure/audit.csv",
        summary="results/{cohort}/disclosure/audit_summary.txt",
    params:
        run=rule_params("disclosure", "matching.replace", "progression.enabled", "trajectory.publish"),
    log:
        "results/{cohort}/interim/logs/publish.log",
    priority: 10   # on the longest path: before the small rules ready at the same time
    threads: 1   # a second solver thread saved no time and cost 2-3 s of CPU at 10^6 (bench/README.md, tenth round)
    resources:
        mem_mb=mem_mb(1000, 0),
        runtime=runtime(10, 0),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/publish.py"


# One job per QC table (the same boundary), so each is written even when the analysis stops.
for _qc in [t for t in TABLES.PUBLISHED if t.rule == "publish_qc"]:

    rule:
        name:
            f"publish_qc_{_qc.source}"
        input:
            **{_qc.source: f"results/{{cohort}}/interim/tables/{_qc.source}.csv"},
        output:
            **{_qc.name: published_output(_qc)},
        params:
            run=rule_params("disclosure", "matching.replace"),
        log:
            f"results/{{cohort}}/interim/logs/publish_qc_{_qc.source}.log",
        threads: 1
        resources:
            mem_mb=mem_mb(600, 0),
            runtime=runtime(5, 0),
        conda:
            "../envs/sibeval.yaml"
        script:
            "../scripts/publish.py"
