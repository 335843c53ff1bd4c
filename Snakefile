# sibeval: from register extracts to the effect note.  Run: snakemake --cores 4
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
# one rule file per stage, named like the library's packages (src/sibeval/<stage>/)
include: "workflow/rules/extract.smk"
include: "workflow/rules/design.smk"
include: "workflow/rules/outcomes.smk"
include: "workflow/rules/inference.smk"
include: "workflow/rules/progression.smk"
include: "workflow/rules/publish.smk"
include: "workflow/rules/economics.smk"
include: "workflow/rules/report.smk"


# On a cluster these run on the submitting host, not as jobs: each takes seconds and at most
# about 0.5 GiB at any population size (they read the cohort's tables and its participant and
# questionnaire files, no register, panel or candidates; bench/README.md), while a job costs a
# Snakemake start and waits for a status check. effects too, where every cohort matches to
# nearest neighbours (EFFECTS_LOCAL, workflow/rules/common.smk).
# Locally the directive changes nothing.
localrules:
    progression,
    publish,
    publish_qc_extract_summary,
    publish_qc_eligibility_funnel,
    economics,
    report,
    note_in_language,
    payment_workbook,
    index,
    release,


rule all:
    input:
        all_targets(),
    default_target: True
