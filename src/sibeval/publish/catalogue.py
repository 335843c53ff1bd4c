"""The table catalogue: every analysis table a rule writes for the boundary, and every table
the boundary publishes, with its family, folder and place in the Snakemake report.

`workflow/rules/common.smk` derives the publish rule's inputs and outputs from it, and the
report rule's inputs (in the workbook's sheet order); a family module and this catalogue
are the only places a published table is described.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnalysisTable:
    """An exact table in `results/<cohort>/interim/tables/` (never published as it is)."""

    name: str
    rule: str                       # the rule that writes it
    needs: str | None = None        # a cohort switch it needs, e.g. "progression.enabled"
    readers: tuple[str, ...] = ("publish",)     # the boundary rules that read it


@dataclass(frozen=True)
class PublishedTable:
    """A table the boundary writes, after disclosure control."""

    name: str
    family: str                     # the publish family that registers and renders it
    folder: str = "published"       # results/<cohort>/<folder>/<name>.csv
    caption: str | None = None      # workflow/report/<caption>.rst in `snakemake --report`
    category: str | None = None
    needs: str | None = None
    reader: bool = True             # read by the note and the workbook (else provenance only)
    rule: str = "publish"           # publish, or publish_qc (QC: one job each, written even when the analysis stops)
    source: str | None = None       # for a QC table: the analysis table it is built from


ANALYSIS = (
    AnalysisTable("extract_summary", "cohort_qc"),
    AnalysisTable("eligibility_funnel", "build_candidates", readers=("publish_qc",)),
    AnalysisTable("flow", "classify_outcomes"),
    AnalysisTable("flow_reasons", "classify_outcomes"),
    AnalysisTable("table1", "classify_outcomes"),
    AnalysisTable("balance", "match"),
    AnalysisTable("match_summary", "match"),
    AnalysisTable("design", "match"),
    AnalysisTable("set_sizes", "match"),
    AnalysisTable("covariate_counts", "match"),
    AnalysisTable("overlap", "match"),
    AnalysisTable("effects", "effects"),
    AnalysisTable("status_distribution", "effects"),
    AnalysisTable("hours_wage", "effects"),
    AnalysisTable("subgroups", "effects"),
    AnalysisTable("placebo", "effects"),
    AnalysisTable("diagnostics", "effects"),
    AnalysisTable("sensitivity", "effects"),
    # issue 25: the trajectory and its decay, published only when trajectory.publish is on
    # (boundary.tables_to_publish)
    AnalysisTable("trajectory", "effects"),
    AnalysisTable("decay", "effects"),
    AnalysisTable("progression_flow", "progression", "progression.enabled"),
    AnalysisTable("progression_items", "progression", "progression.enabled"),
    AnalysisTable("who5", "progression", "progression.enabled"),
    AnalysisTable("who5_bands", "progression", "progression.enabled"),
)

# in the order the workbook shows them
PUBLISHED = (
    PublishedTable("extract_summary", "provenance"),
    PublishedTable("flow", "flows"),
    PublishedTable("table1", "outcomes", caption="table1", category="3. Outcomes"),
    PublishedTable("effects", "outcomes", caption="effects", category="4. Effects"),
    PublishedTable("status_distribution", "outcomes"),
    PublishedTable("hours_wage", "hours", caption="hours_wage", category="4. Effects"),
    PublishedTable("subgroups", "outcomes", caption="subgroups", category="4. Effects"),
    PublishedTable("placebo", "outcomes", caption="placebo", category="4. Effects"),
    PublishedTable("diagnostics", "outcomes", caption="diagnostics", category="4. Effects"),
    PublishedTable("sensitivity", "outcomes", caption="sensitivity", category="4. Effects"),
    PublishedTable("balance", "matching", caption="balance", category="2. Matching"),
    PublishedTable("match_summary", "matching", caption="match_summary", category="2. Matching"),
    PublishedTable("matched_sets", "matching"),
    PublishedTable("design", "matching"),
    PublishedTable("profile", "matching"),
    PublishedTable("overlap", "matching"),
    PublishedTable("progression_flow", "progression", needs="progression.enabled"),
    PublishedTable("progression_items", "progression", caption="progression_items", category="5. Progression",
                   needs="progression.enabled"),
    PublishedTable("who5", "progression", caption="who5", category="5. Progression", needs="progression.enabled"),
    PublishedTable("who5_bands", "progression", needs="progression.enabled"),
    PublishedTable("trajectory", "trajectories", caption="trajectory", category="4. Effects",
                   needs="trajectory.publish"),
    PublishedTable("decay", "trajectories", caption="decay", category="4. Effects", needs="trajectory.publish"),
    PublishedTable("checksums", "provenance", reader=False),
    PublishedTable("qc_extract_summary", "qc", folder="qc", caption="extract_summary", category="1. Data",
                   reader=False, rule="publish_qc", source="extract_summary"),
    PublishedTable("eligibility_funnel", "qc", folder="qc", caption="eligibility_funnel", category="1. Data",
                   reader=False, rule="publish_qc", source="eligibility_funnel"),
)


def path(table: PublishedTable, cohort: str = "{cohort}") -> str:
    """Where a published table is written."""
    stem = table.name.removeprefix(f"{table.folder}_")
    return f"results/{cohort}/{table.folder}/{stem}.csv"


def enabled(table, settings: dict) -> bool:
    """Whether a cohort (its settings) has the table."""
    if table.needs is None:
        return True
    v = settings
    for part in table.needs.split("."):
        v = v[part]
    return bool(v)
