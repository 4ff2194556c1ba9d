# The EOS paper's §V-E studies and the EOS variant study (pipeline_lib.studies.eos.tables): each reads the test
# predictions of runs the EOS pipeline makes (the K sweep and the variants are more oversample_embeddings /
# retrain_head runs, K and options in the run name; Table V's backbones are runs of derived data sets
# <dataset>@<arch>; pixel EOS is one more pixel-space method), so nothing here has a loop of its own.

import glob

from pipeline_lib.infra.config import check_table4_k


def table4_input(wildcards):
    """Table IV's runs; its K values checked against the data first (only when a target needs Table IV)."""
    try:
        check_table4_k(config, DATASETS)
    except ConfigError as err:
        sys.exit(f"config error: {err}")
    return records_input(table4_records())


# --- the scorecard against the papers' published numbers (rule paper_check) ---------------------------------

PAPER_TABLES = sorted(glob.glob(os.path.join(workflow.basedir, "workflow", "resources", "paper_*.csv")))
PAPER_CHECK_FILES = {
    "eos_table1": "reports/table1.csv", "eos_table2": "reports/table2.csv", "eos_table3": "reports/table3.csv",
    "eos_table4": "reports/table4.csv", "eos_table5": "reports/table5.csv", "eos_pixel": "reports/pixel_eos.csv",
    "eos_runtime": "reports/runtime.csv", **{f"da_table{i}": f"reports/da/table{i}.csv" for i in range(1, 12)}}


def paper_settings():
    """{run data set: {paper_dataset, match, why, authors}} of every configured data set (datasets.<name>.paper;
    authors: its models imported from checkpoints for every cut; a tabular data set is the paper's own data
    under its split protocol when tabular.runs has its 5 splits)."""
    out = {d: {"paper_dataset": ds.get("paper", {}).get("dataset", d), "match": ds.get("paper", {}).get("matches", False),
               "why": ds.get("paper", {}).get("why", ""),
               "authors": sorted(m for m, cuts in ds.get("checkpoints", {}).items()
                                 if set(map(str, cuts)) >= set(CUTS))}
           for d, ds in config["datasets"].items()}
    five = len(TAB_RUNS) == 5
    for t in TAB_DATASETS:
        out.setdefault(t, {"paper_dataset": t, "match": five,
                           "why": "the paper's UCI data, 5 stratified 70:30 splits" if five
                           else f"the paper's UCI data, {len(TAB_RUNS)} of its 5 splits"})
    return out


def paper_cut_metrics():
    """The per-cut metric files of EOS Tables I and II (the scorecard compares their configured cut)."""
    tables = config["paper_check"]["tables"]
    return sorted(set((all_metrics() if "eos_table2" in tables else [])
                      + (table1_inputs(None) if "eos_table1" in tables else [])))


def paper_cut_records():
    """The study records of EOS Tables III, IV, V and §V-E3 at the configured cut, each with its table key
    (their reports hold means only; the scorecard compares that cut)."""
    tables, cut = config["paper_check"]["tables"], str(config["paper_check"]["eos_cut"])
    studies = {"eos_table3": table3_records, "eos_table4": table4_records, "eos_table5": table5_records,
               "eos_pixel": pixel_eos_records}
    return [{**r, "table": key} for key, records in studies.items() if key in tables for r in records()
            if str(r["cut"]) == cut]


rule table4:
    input:
        unpack(table4_input),
    output:
        csv=report("reports/table4.csv", caption="../report/table4.rst", category="EOS paper",
                   subcategory="Table IV", labels={"table": "IV"}),
        md="reports/table4.md",
    log:
        "logs/table4/table4.log",
    benchmark:
        "benchmarks/table4/table4.tsv"
    params:
        records=records_meta(table4_records()),
        titles=TITLES,
        table2_k=EOS_OPTIONS["k_neighbors"],
        code=code("table4.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table4.py"


rule table5:
    input:
        unpack(lambda wc: records_input(table5_records())),
    output:
        csv=report("reports/table5.csv", caption="../report/table5.rst", category="EOS paper",
                   subcategory="Table V", labels={"table": "V"}),
        md="reports/table5.md",
    log:
        "logs/table5/table5.log",
    benchmark:
        "benchmarks/table5/table5.tsv"
    params:
        records=records_meta(table5_records()),
        titles=TITLES,
        k=EOS_OPTIONS["k_neighbors"],
        code=code("table5.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/table5.py"


rule pixel_eos:
    input:
        unpack(lambda wc: records_input(pixel_eos_records())),
    output:
        csv=report("reports/pixel_eos.csv", caption="../report/pixel_eos.rst", category="EOS paper",
                   subcategory="§V-E3 pixel-space EOS", labels={"table": "pixel EOS"}),
        md="reports/pixel_eos.md",
    log:
        "logs/pixel_eos/pixel_eos.log",
    benchmark:
        "benchmarks/pixel_eos/pixel_eos.tsv"
    params:
        records=records_meta(pixel_eos_records()),
        titles=TITLES,
        code=code("pixel_eos.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/pixel_eos.py"


rule eos_variants:
    input:
        unpack(lambda wc: records_input(variant_records())),
    output:
        csv=report("reports/eos_variants.csv", caption="../report/eos_variants.rst", category="EOS paper",
                   subcategory="EOS variants", labels={"table": "EOS variants"}),
        md="reports/eos_variants.md",
    log:
        "logs/eos_variants/eos_variants.log",
    benchmark:
        "benchmarks/eos_variants/eos_variants.tsv"
    params:
        records=records_meta(variant_records()),
        titles=TITLES,
        k=EOS_OPTIONS["k_neighbors"],
        custom=custom_labels(CUSTOM),
        code=code("eos_variants.py"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    localrule: True
    script:
        "../scripts/eos_variants.py"


# every number of the configured reports next to the papers' (workflow/resources/paper_*.csv), the difference and
# whether the run is the paper's setting or a stand-in; published rows without a run are listed as not run


rule paper_check:
    input:
        unpack(lambda wc: {**{key: PAPER_CHECK_FILES[key] for key in config["paper_check"]["tables"]},
                           **records_input(paper_cut_records())}),
        published=PAPER_TABLES,
        cut_metrics=paper_cut_metrics(),
        results=[r["csv"] for r in config["paper_check"]["results"]],
    output:
        csv=report("reports/paper_check.csv", caption="../report/paper_check.rst", category="Paper check"),
        md="reports/paper_check.md",
    log:
        "logs/paper_check/paper_check.log",
    benchmark:
        "benchmarks/paper_check/paper_check.tsv"
    params:
        tables=config["paper_check"]["tables"],
        settings=paper_settings(),
        titles={d: TITLES[d] for d in ALL_DATASETS},  # the configured data sets'
        check={k: config["paper_check"][k] for k in ("eos_cut", "tolerance", "results")},
        cut_records=records_meta(paper_cut_records()),
        eos_k=config["oversampling"]["eos"]["k_neighbors"],
        code=code("paper_check.py"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    script:
        "../scripts/paper_check.py"
