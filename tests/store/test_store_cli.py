"""`gridcore store ...`: init, import, export (round trip, no overwrite), verify (exit 1
naming the first mismatch), metrics, migrate; bad input gives one typed line (exit 2)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POLICY
from store_traffic import desk_events, desk_steps

from gridcore.cases import event_to_json
from gridcore.cli import main
from gridcore.metrics import compute_metrics
from gridcore.store import open_store

EVENTS = tuple(desk_events(desk_steps(80, 21), POLICY))
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    p = tmp_path / "events.jsonl"
    p.write_text("".join(event_to_json(e) + "\n" for e in EVENTS), encoding="utf-8")
    return p


def run(*args: str) -> int:
    return main(["store", *args])


class TestRoundTrip:
    def test_import_then_export_gives_the_same_lines(
        self, durable_url: str, jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """init, import, export: the exported file equals the imported one, byte for byte;
        importing it into a second journal and exporting again gives it once more."""
        assert run("init", durable_url) == 0
        assert run("import", durable_url, str(jsonl)) == 0
        out = tmp_path / "out.jsonl"
        assert run("export", durable_url, "--out", str(out)) == 0
        assert out.read_bytes() == jsonl.read_bytes()
        second = f"sqlite:///{tmp_path / 'second.db'}"
        assert run("import", second, str(out)) == 0
        again = tmp_path / "again.jsonl"
        assert run("export", second, "--out", str(again)) == 0
        assert again.read_bytes() == jsonl.read_bytes()
        with open_store(durable_url) as a, open_store(second) as b:
            assert list(a.all_events()) == list(b.all_events())
        assert f"imported {len(EVENTS)} events" in capsys.readouterr().out

    def test_export_never_overwrites_without_being_told(
        self, tmp_path: Path, jsonl: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An existing --out file is kept (exit 2) unless --overwrite."""
        url = f"sqlite:///{tmp_path / 'j.db'}"
        run("import", url, str(jsonl))
        mine = tmp_path / "mine.jsonl"
        mine.write_text("my notes\n")
        assert run("export", url, "--out", str(mine)) == 2
        assert mine.read_text() == "my notes\n"
        assert "--overwrite" in capsys.readouterr().err
        assert run("export", url, "--out", str(mine), "--overwrite") == 0
        assert mine.read_bytes() == jsonl.read_bytes()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    def test_a_bad_line_imports_nothing_and_names_the_line(
        self, tmp_path: Path, jsonl: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A broken line 30: exit 2 naming file and line; the journal stays empty."""
        lines = jsonl.read_text().splitlines(keepends=True)
        lines[29] = '{"case_id": "x", "seq": "one"}\n'
        bad = tmp_path / "bad.jsonl"
        bad.write_text("".join(lines))
        url = f"sqlite:///{tmp_path / 'j.db'}"
        assert run("import", url, str(bad)) == 2
        assert "line 30" in capsys.readouterr().err
        with open_store(url) as s:
            assert s.last_position() == 0

    def test_a_non_utf8_file_is_a_typed_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Bytes that are not UTF-8: exit 2, one line naming the file."""
        bad = tmp_path / "bad.jsonl"
        bad.write_bytes(b"\xff\xfe\x00garbage\n")
        assert run("import", f"sqlite:///{tmp_path / 'j.db'}", str(bad)) == 2
        assert "not UTF-8" in capsys.readouterr().err


class TestVerify:
    def test_a_sound_journal_verifies(
        self, durable_url: str, jsonl: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """verify: exit 0 and the counts."""
        run("import", durable_url, str(jsonl))
        capsys.readouterr()
        assert run("verify", durable_url) == 0
        assert f"{len(EVENTS)} events: ok" in capsys.readouterr().out

    def test_a_tampered_projection_fails_naming_the_case_and_column(
        self, tmp_path: Path, jsonl: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A projection row changed behind the journal's back: exit 1, first mismatch named."""
        db = tmp_path / "j.db"
        url = f"sqlite:///{db}"
        run("import", url, str(jsonl))
        victim = EVENTS[0].case_id
        with sqlite3.connect(db) as con:
            con.execute("UPDATE cases SET owner = 'nobody' WHERE case_id = ?", [victim])
        capsys.readouterr()
        assert run("verify", url) == 1
        out = capsys.readouterr().out
        assert f"case {victim!r}: projection owner = 'nobody'" in out

    def test_a_seq_gap_fails(
        self, tmp_path: Path, jsonl: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An event removed from the middle of a case: exit 1 naming the case."""
        db = tmp_path / "j.db"
        url = f"sqlite:///{db}"
        run("import", url, str(jsonl))
        victim = next(e for e in EVENTS if e.seq == 3).case_id
        with sqlite3.connect(db) as con:
            con.execute("DELETE FROM events WHERE case_id = ? AND seq = 2", [victim])
        capsys.readouterr()
        assert run("verify", url) == 1
        out = capsys.readouterr().out
        assert f"case {victim!r}" in out and "positions run" in out


class TestMetricsAndMigrate:
    def test_metrics_by_category_equal_compute_metrics_on_the_events(
        self, tmp_path: Path, jsonl: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The CSV has one row per category, the counts compute_metrics gives."""
        url = f"sqlite:///{tmp_path / 'j.db'}"
        run("import", url, str(jsonl))
        capsys.readouterr()
        assert run("metrics", url, "--by", "category") == 0
        lines = capsys.readouterr().out.splitlines()
        expected = compute_metrics(list(EVENTS), "category").to_rows()
        assert len(lines) == 1 + len(expected)
        header = lines[0].split(",")
        got = {row.split(",")[0]: row.split(",") for row in lines[1:]}
        for row in expected:
            assert int(got[row["category"]][header.index("n_cases")]) == row["n_cases"]

    def test_migrate_on_a_current_journal_says_so(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """migrate on a journal already current: exit 0, nothing changed."""
        url = f"sqlite:///{tmp_path / 'j.db'}"
        run("init", url)
        assert run("migrate", url) == 0
        assert "already at schema" in capsys.readouterr().out

    def test_the_command_runs_as_a_process(self, tmp_path: Path) -> None:
        """`python -m gridcore store init` works end to end (exit 0)."""
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        url = f"sqlite:///{tmp_path / 'p.db'}"
        done = subprocess.run(
            [sys.executable, "-m", "gridcore", "store", "init", url],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "schema" in done.stdout
