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


rule all:
    input:
        all_targets(),
    default_target: True
