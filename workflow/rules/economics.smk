rule economics:
    """The payment model: budget account, split, payment per outcome, risk (docs/economics.md)."""
    input:
        unpack(measured_decay_input),
        effects="results/{cohort}/published/effects.csv",
        subgroups="results/{cohort}/published/subgroups.csv",
    output:
        inputs="results/{cohort}/economics/inputs.csv",
        account=report(
            "results/{cohort}/economics/account.csv",
            caption="../report/economics.rst",
            category="6. Economics",
        ),
        break_even="results/{cohort}/economics/break_even.csv",
        cash_flow="results/{cohort}/economics/cash_flow.csv",
        risk="results/{cohort}/economics/risk.csv",
        parties="results/{cohort}/economics/parties.csv",
        stages="results/{cohort}/economics/stages.csv",
        sensitivity="results/{cohort}/economics/sensitivity.csv",
        subgroups="results/{cohort}/economics/subgroup_payments.csv",
        settlement="results/{cohort}/economics/settlement.csv",
        decay_comparison="results/{cohort}/economics/decay_comparison.csv",
    params:
        economics=lambda wc: COHORTS[wc.cohort]["economics"],
        cohort_file=lambda wc: COHORTS[wc.cohort]["source"],
    log:
        "results/{cohort}/interim/logs/economics.log",
    priority: 10   # on the longest path: before the small rules ready at the same time
    threads: 1
    resources:
        mem_mb=mem_mb(600, 0),
        runtime=runtime(5, 0),
    conda:
        "../envs/sibeval.yaml"
    script:
        "../scripts/economics.py"
