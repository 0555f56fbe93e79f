"""The directory every process writes its Prometheus samples to: the default one is cleaned at start, unless a
live process still writes there; one the operator configured is theirs."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from core.metrics_directory import ENV_NAME, default_directory, metrics_directory_prepare


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(ENV_NAME, "")  # restored afterwards: prepare() sets it
    return tmp_path


def dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(finished.stdout)


def test_the_default_directory_is_cleaned_when_no_process_of_an_earlier_start_lives(temp_folder):
    directory = default_directory()
    directory.mkdir()
    (directory / f"counter_{dead_pid()}.db").write_bytes(b"old")

    assert metrics_directory_prepare("") == str(directory)

    assert list(directory.iterdir()) == []
    assert os.environ[ENV_NAME] == str(directory)


def test_the_default_directory_keeps_every_file_while_a_process_writing_there_lives(temp_folder):
    directory = default_directory()
    directory.mkdir()
    live, dead = directory / f"counter_{os.getppid()}.db", directory / f"counter_{dead_pid()}.db"
    live.write_bytes(b"live")
    dead.write_bytes(b"dead")  # a crashed worker's counts still count while its deployment runs

    metrics_directory_prepare("")

    assert live.exists()
    assert dead.exists()


def test_a_configured_directory_is_never_cleaned(temp_folder):
    configured = temp_folder / "shared-volume"
    configured.mkdir()
    (configured / f"counter_{dead_pid()}.db").write_bytes(b"old")

    assert metrics_directory_prepare(str(configured)) == str(configured)

    assert len(list(configured.iterdir())) == 1
