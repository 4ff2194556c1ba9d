"""Damaged intermediates (pipeline_lib.infra.integrity): records, damage checks, the failing job's line, verify."""
import base64
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import REPO
from pipeline_lib.infra import integrity


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(integrity.ENV, raising=False)
    os.makedirs("data/x")
    pd.DataFrame({"a": np.arange(50)}).to_parquet("data/x/t.parquet")
    torch.save({"state_dict": {"w": torch.ones(30, 30)}}, "data/x/m.pt")
    np.savez("data/x/a.npz", x=np.arange(1000))
    pd.DataFrame({"a": [1, 2]}).to_csv("data/x/i.csv", index=False)
    return tmp_path


SNAKEMAKE = integrity._snakemake()  # 'snakemake', or the one beside this Python when that is not on PATH
FILES = ["data/x/t.parquet", "data/x/m.pt", "data/x/a.npz", "data/x/i.csv"]


def truncate(path, keep=0.5):
    data = open(path, "rb").read()
    open(path, "wb").write(data[:int(len(data) * keep)])


def test_intact_files_pass_with_and_without_records(folder):
    assert integrity.verify() == []
    integrity.record_outputs(FILES, "make_x")
    assert integrity.verify() == []
    rec = integrity.read_record("data/x/m.pt")
    assert rec["rule"] == "make_x" and rec["size"] == os.path.getsize("data/x/m.pt") and len(rec["sha256"]) == 64


@pytest.mark.parametrize("path", FILES[:3])
def test_truncated_files_are_found_by_their_format_without_a_record(folder, path):
    truncate(path)
    (line,) = integrity.verify()
    assert line.startswith(f"{path} is damaged (not a readable ")
    assert line.endswith(f"written by an earlier job; rebuild it with: {SNAKEMAKE} --cores 1 --force {path}")


def test_records_catch_what_the_format_cannot(folder):
    integrity.record_outputs(FILES, "make_x")
    size = os.path.getsize("data/x/i.csv")
    truncate("data/x/i.csv", 0.6)  # a CSV cut short is still a CSV
    with open("data/x/t.parquet", "r+b") as fh:  # same size, one byte changed in the data pages
        fh.seek(10)
        b = fh.read(1)
        fh.seek(10)
        fh.write(bytes([b[0] ^ 0xFF]))
    lines = integrity.verify()
    assert len(lines) == 2 and all("written by rule make_x" in l for l in lines)
    by = {l.split(" ", 1)[0]: l for l in lines}
    assert f"({int(size * 0.6)} bytes, its producer wrote {size})" in by["data/x/i.csv"]
    assert "sha256 differs" in by["data/x/t.parquet"]


def test_producer_falls_back_to_snakemakes_metadata(folder):
    os.makedirs(".snakemake/metadata")
    name = base64.urlsafe_b64encode(b"data/x/a.npz").decode()
    with open(f".snakemake/metadata/{name}", "w") as fh:
        json.dump({"rule": "fetch_dataset"}, fh)
    truncate("data/x/a.npz")
    (line,) = integrity.verify()
    assert "written by rule fetch_dataset;" in line


def test_rebuild_command_repeats_the_runs_files(folder, monkeypatch):
    monkeypatch.setenv(integrity.ENV, json.dumps({"snakefile": "/repo/Snakefile", "configfiles": ["/c/my conf.yaml"]}))
    integrity.record_outputs(["data/x/m.pt"], "train_backbone")
    monkeypatch.delenv(integrity.ENV)
    cmd = integrity.rebuild_command("data/x/m.pt")
    assert cmd == (f"{SNAKEMAKE} --cores 1 -s /repo/Snakefile --directory {folder} --configfile '/c/my conf.yaml' "
                   "--force data/x/m.pt")


JOB = textwrap.dedent("""
    import sys, types
    import pandas as pd
    from pipeline_lib.infra import runlog
    snakemake = types.SimpleNamespace(rule="consume", wildcards={"cut": "0"}, threads=1, log=["logs/consume.log"],
                                      input=["data/x/t.parquet", "data/x/i.csv"], output=["data/y/out.csv"])
    runlog.start(snakemake)
    df = pd.read_parquet(snakemake.input[0])
    df.to_csv("data/y/out.csv", index=False)
""")


def run_job(folder):
    os.makedirs("data/y", exist_ok=True)
    (folder / "job.py").write_text(JOB)
    return subprocess.run([sys.executable, "job.py"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO / "src")})


def test_a_job_records_its_outputs_and_a_failing_one_names_its_damaged_input(folder):
    integrity.record_outputs(FILES, "export_embeddings")
    ok = run_job(folder)
    assert ok.returncode == 0, ok.stderr
    assert integrity.read_record("data/y/out.csv")["rule"] == "consume"
    truncate("data/x/t.parquet")
    os.remove("data/y/out.csv")
    bad = run_job(folder)
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert lines[0].startswith("[consume cut=0] error: ArrowInvalid")
    assert lines[1] == ("[consume cut=0] error: data/x/t.parquet is damaged (" + lines[1].split("(", 1)[1].split(")")[0]
                        + f"); written by rule export_embeddings; rebuild it with: {SNAKEMAKE} --cores 1 --force "
                        "data/x/t.parquet")
    assert len(lines) == 2
    assert "data/x/t.parquet is damaged" in open("logs/consume.log").read()  # and in the log
    assert integrity.read_record("data/y/out.csv") is not None  # the failed job wrote no new record
    assert not os.path.exists("data/y/out.csv")


def test_verify_command_exit_status(folder):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    ok = subprocess.run([sys.executable, "-m", "pipeline_lib.infra.integrity"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and ok.stdout == "" and "no damaged file under data, reports" in ok.stderr
    truncate("data/x/m.pt")
    bad = subprocess.run([sys.executable, "-m", "pipeline_lib.infra.integrity"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stdout.startswith("data/x/m.pt is damaged (not a readable zip archive")
