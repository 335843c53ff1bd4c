"""The release manifest lists every file that may leave, expanded from folders, with its kind,
size and sha256; files outside it (interim/, which holds the logs) are never listed."""

import hashlib

from sibeval.report.release import manifest


def test_manifest_lists_files_with_kind_size_and_checksum(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = {"results/c/published/effects.csv": b"outcome,n\n", "results/c/report/figures/a.png": b"\x89PNG",
             "results/c/qc/eligibility_funnel.csv": b"rule\n", "results/index.html": b"<html>"}
    for f, data in files.items():
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_bytes(data)
    (tmp_path / "results/c/report/figures/.snakemake_timestamp").write_bytes(b"")
    (tmp_path / "results/c/interim").mkdir()
    (tmp_path / "results/c/interim/status.parquet").write_bytes(b"secret")
    m = manifest(["results/c/published/effects.csv", "results/c/report/figures", "results/c/qc/eligibility_funnel.csv",
                  "results/index.html"]).to_frame()
    assert m["file"].tolist() == sorted(files)
    row = m.set_index("file").loc["results/c/report/figures/a.png"]
    assert row["kind"] == "figure" and row["bytes"] == 4
    assert row["sha256"] == hashlib.sha256(b"\x89PNG").hexdigest()
    assert m.set_index("file").loc["results/index.html", "kind"] == "index of cohorts"
    assert not m["file"].str.contains("interim").any()


def test_the_manifest_csv_is_what_pandas_writes(tmp_path, monkeypatch):
    """The release job writes the manifest without pandas: the same bytes as pandas' CSV, with
    names that need quoting (commas, quotes, spaces, non-ASCII)."""
    monkeypatch.chdir(tmp_path)
    names = ["results/c/report/figures/a,b.png", 'results/c/report/figures/say "x".svg',
             "results/c/published/æøå tabel.csv", "results/index.html"]
    for i, f in enumerate(names):
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_bytes(b"x" * i)
    m = manifest(["results/c/report/figures", "results/c/published/æøå tabel.csv", "results/index.html"])
    assert len(m.rows) == 4 and m.bytes == 6
    assert m.to_csv() == m.to_frame().to_csv(index=False, lineterminator="\n")
    assert '"results/c/report/figures/a,b.png"' in m.to_csv()
