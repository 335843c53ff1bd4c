# The extract stage: per extract, shared by every cohort on it.
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
            f"results/extracts/interim/logs/demo/{_name}.log",
        group: EXTRACT_JOB
        threads: 1
        resources:
            mem_mb=lambda wc, attempt: int((1000 + 16 * EXTRACT_MB[_name]) * attempt),
            runtime=lambda wc, attempt: int((10 + EXTRACT_MB[_name] / 100) * attempt),
        conda:
            "../envs/sibeval.yaml"
        script:
            "../scripts/demo_extract.py"


rule normalise_extract:
    """Validate every register file against DATA_CONTRACT.md once and keep it as typed,
    column-pruned Parquet, with the raw files' checksums and the register QC summary; the
    person-level registers also split by block of persons for the candidate search, and
    eIndkomst kept only as its split by the same blocks, for build_panel."""
    input:
        raw_register_files,
    output:
        [f"results/extracts/interim/{{extract}}/{n}.parquet" for n in REGISTER_FILES if n != "eindkomst"],
        # bef, vnds, udda, lpr by block of persons: what every cohort's build_candidates walks
        blocks=directory("results/extracts/interim/{extract}/blocks"),
        # eIndkomst by block (about 24 bytes a row, 1.5 GB at 10^6 persons): nothing but
        # build_panel reads its rows, so it is kept only until build_panel has read it
        eindkomst_blocks=temp(directory("results/extracts/interim/{extract}/eindkomst_blocks")),
        summary="results/extracts/interim/{extract}/summary.csv",
        checksums="results/extracts/interim/{extract}/checksums.csv",
    params:
        run=rule_params(codes=True, extract="raw"),
        layout=DREAM_LAYOUT,   # a file of an older layout is made again
    log:
        "results/extracts/interim/logs/{extract}/normalise_extract.log",
    group: EXTRACT_JOB
    threads: 2   # DREAM in a second process, bef here; the optional registers and eIndkomst's row groups shared
    resources:
        mem_mb=mem_mb(1800, 100),   # bounded, both processes: 1.2-1.4 GiB at 10^6, 1.5 GiB at 6x10^6 persons (bench/README.md)
        runtime=runtime(10, 20),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/normalise_extract.py"


rule cohort_qc:
    """The cohort's QC summary: its participant list and questionnaires (validated) with the
    extract's register summary (exact; the publish rule writes qc/ with small counts hidden)."""
    input:
        cohort_files,
        summary=normalised("summary.csv"),
        bef=normalised("bef.parquet"),
    output:
        "results/{cohort}/interim/tables/extract_summary.csv",
    params:
        run=rule_params("participants_file", "progression.questionnaire_file",
                        extract=True),
    log:
        "results/{cohort}/interim/logs/cohort_qc.log",
    group: COHORT_JOB
    threads: 1
    resources:
        mem_mb=mem_mb(600, 0),   # the participants' bef rows only: 0.24 GiB at 10^6 and 6x10^6 persons
        runtime=runtime(5, 2),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/cohort_qc.py"


rule build_panel:
    """Person x month panel of the extract: benefit group, wage, hours, residence, death."""
    input:
        normalised("dream.parquet", "eindkomst_blocks", "vnds.parquet", "dod.parquet", "summary.csv"),
    output:
        "results/extracts/interim/{extract}/panel.parquet",
    params:
        run=rule_params(codes=True, extract=True),
        layout=PANEL_LAYOUT,   # a file of an older layout is made again
    log:
        "results/extracts/interim/logs/{extract}/build_panel.log",
    priority: 10   # the longest path goes through it: first, before the small rules that are also ready
    group: EXTRACT_JOB
    threads: 2   # two blocks of persons at a time
    resources:
        mem_mb=mem_mb(1500, 100, 300),   # bounded: 1.2-1.3 GiB at 10^6, 1.4 at 6x10^6 on two threads (bench/README.md, ninth round)
        runtime=runtime(10, 20),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/build_panel.py"
