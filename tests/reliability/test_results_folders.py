"""Results folders: whole or not at all, a manifest, never mixed, locked while a sweep runs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import gridcore
from gridcore.cli import main
from gridcore.errors import FileFormatError
from gridcore.io.folder import MANIFEST, folder_lock, verify
from gridcore.sim.results import ScenarioResult
from gridcore.sim.run import run_replication, run_scenario
from gridcore.sim.scenario import scenario_from_dict
from gridcore.sweep import SerialExecutor, Sweep, run_sweep

QUEUE = "[run]\ndays = 2\nreplications = 2\n[queue_only]\nworkers = 2\n"


def _scenario(workers: int = 2) -> Any:
    return scenario_from_dict(
        {"name": "q", "run": {"days": 2, "replications": 2}, "queue_only": {"workers": workers}}
    )


def _sim(tmp_path: Path, out: Path, *extra: str, text: str = QUEUE) -> int:
    scen = tmp_path / "q.toml"
    scen.write_text(text)
    return main(["simulate", "--scenario", str(scen), "--out", str(out), "--quiet", *extra])


def test_the_manifest_lists_every_file_with_its_sha256(tmp_path: Path) -> None:
    """kind, version, scenario hash and a checksum per file; no timestamp (same bytes twice)."""
    out = tmp_path / "run"
    result = run_scenario(_scenario(), SerialExecutor())
    result.write(out)
    m = json.loads((out / MANIFEST).read_text())
    assert m["kind"] == "run" and m["gridcore_version"] == gridcore.__version__
    assert m["scenario_hash"] == result.key()
    files = sorted(p.name for p in out.iterdir() if p.name != MANIFEST)
    assert sorted(m["files"]) == files
    for name, sha in m["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha
    first = (out / MANIFEST).read_bytes()
    result.write(out)  # the same run again: allowed, and byte for byte the same
    assert (out / MANIFEST).read_bytes() == first


def test_a_users_folder_is_not_overwritten_without_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder with the user's own summary.json is refused; --overwrite replaces it."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "summary.json").write_text('{"mine": true}')
    assert _sim(tmp_path, out) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == '{"mine": true}'
    assert _sim(tmp_path, out, "--overwrite") in (0, 1)
    assert '"mine"' not in (out / "summary.json").read_text()
    verify(out, ("run",))


def test_another_runs_folder_is_never_mixed_with_this_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run of another scenario is refused; with --overwrite none of its files remain."""
    out = tmp_path / "out"
    assert _sim(tmp_path, out) in (0, 1)
    (out / "cases.csv").write_text("from a grid run\n")  # as if the old run had more tables
    other = QUEUE.replace("workers = 2", "workers = 3")
    assert _sim(tmp_path, out, text=other) == 2
    assert "another input" in capsys.readouterr().err
    assert _sim(tmp_path, out, "--overwrite", text=other) in (0, 1)
    assert not (out / "cases.csv").exists()
    verify(out)


def test_a_failed_write_leaves_no_folder_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed (here: failing) half way through writing: the folder does not appear."""
    result = run_scenario(_scenario(), SerialExecutor())
    real = ScenarioResult.fill

    def half(self: ScenarioResult, folder: Any) -> None:
        (Path(folder) / "summary.json").write_text("{}")
        raise KeyboardInterrupt  # as a kill between two files

    monkeypatch.setattr(ScenarioResult, "fill", half)
    with pytest.raises(KeyboardInterrupt):
        result.write(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(ScenarioResult, "fill", real)
    result.write(tmp_path / "run")
    old = (tmp_path / "run" / MANIFEST).read_bytes()
    monkeypatch.setattr(ScenarioResult, "fill", half)
    with pytest.raises(KeyboardInterrupt):
        result.write(tmp_path / "run")  # a failed rewrite keeps the whole old folder
    assert (tmp_path / "run" / MANIFEST).read_bytes() == old
    verify(tmp_path / "run")
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.parametrize("damage", ["no_manifest", "missing", "changed", "extra"])
def test_report_refuses_a_folder_that_does_not_match_its_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """Torn, edited or mixed: report exits 2 naming what is wrong, and draws nothing."""
    out = tmp_path / "run"
    assert _sim(tmp_path, out) in (0, 1)
    named = {
        "no_manifest": "manifest.json",
        "missing": "checks.csv",
        "changed": "summary.json",
        "extra": "cases.csv",
    }[damage]
    if damage == "no_manifest":
        (out / MANIFEST).unlink()
    elif damage == "missing":
        (out / "checks.csv").unlink()
    elif damage == "changed":
        (out / "summary.json").write_text("{}")
    else:
        (out / "cases.csv").write_text("replication,response_minutes\n0,5\n")
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert named in err and len(err.strip().splitlines()) == 1, err
    assert not (out / "report.html").exists()


def test_compare_writes_whole_with_sealed_sides_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """compare's folder, and its base/ and whatif/, each pass verify; the path is printed."""
    scen = tmp_path / "q.toml"
    scen.write_text(QUEUE)
    out = tmp_path / "cmp"
    assert main(["compare", str(scen), "--whatif-overlay", "flattened", "--out", str(out),
                 "--quiet"]) == 0  # fmt: skip
    assert f"results written to {out}" in capsys.readouterr().out
    assert verify(out)["kind"] == "comparison"
    assert verify(out / "base")["kind"] == verify(out / "whatif")["kind"] == "run"


def _sweep(workers: tuple[int, ...] = (2, 3)) -> Sweep:
    return Sweep.grid(_scenario(), {"queue_only.workers": list(workers)}, replications=2)


def test_a_second_sweep_on_the_same_folder_is_refused_while_the_first_holds_it(
    tmp_path: Path,
) -> None:
    """Two sweeps on one --out: the second is refused at once, naming the holder."""
    out = tmp_path / "sweep"
    with folder_lock(out), pytest.raises(FileFormatError, match="locked by process"):
        run_sweep(_sweep(), out, SerialExecutor(), runner=run_replication)
    res = run_sweep(_sweep(), out, SerialExecutor(), runner=run_replication)  # lock released
    assert res.executed == 4
    verify(out, ("sweep",))


def test_a_sweep_resumes_only_its_own_folder(tmp_path: Path) -> None:
    """Another sweep's folder or a run folder is refused; its own is resumed."""
    out = tmp_path / "sweep"
    run_sweep(_sweep(), out, SerialExecutor(), runner=run_replication)
    with pytest.raises(FileFormatError, match="another input"):
        run_sweep(_sweep((4, 5)), out, SerialExecutor(), runner=run_replication)
    again = run_sweep(_sweep(), out, SerialExecutor(), runner=run_replication)
    assert again.executed == 0 and again.reused == 4
    run = tmp_path / "run"
    run_scenario(_scenario(), SerialExecutor()).write(run)
    with pytest.raises(FileFormatError, match="run result"):
        run_sweep(_sweep(), run, SerialExecutor(), runner=run_replication)
    replaced = run_sweep(_sweep((4, 5)), out, SerialExecutor(), runner=run_replication,
                         overwrite=True)  # fmt: skip
    assert replaced.executed == 4 and len(list((out / "runs").iterdir())) == 4
