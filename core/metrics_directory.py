"""Where the Prometheus client of every Weft process (web workers, Dramatiq workers) writes its samples, so
that one scrape adds them up (prometheus_client's multiprocess mode).

Imported by the settings, before anything imports prometheus_client: the client picks its storage from
PROMETHEUS_MULTIPROC_DIR when it is first imported.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

ENV_NAME = "PROMETHEUS_MULTIPROC_DIR"
# prometheus_client names its files <type>_<pid>.db (gauges add their mode: gauge_all_<pid>.db).
_PID_OF_FILE = re.compile(r"_(\d+)\.db$")


def default_directory() -> Path:
    return Path(tempfile.gettempdir()) / f"weft-metrics-{os.getuid()}"


def metrics_directory_prepare(configured: str) -> str:
    """The directory every process of this deployment writes its samples to, created, and set in the
    environment for prometheus_client.

    A directory the operator configured is theirs to clean (between deployments, as prometheus_client
    asks). The default one, under the temp folder, is cleaned here when no live process owns a file in
    it: the samples of an earlier start of Weft would otherwise be added to this one's. While any process
    of a running deployment lives, the files of its dead processes stay, so counters never go down."""
    directory = Path(configured) if configured else default_directory()
    directory.mkdir(parents=True, exist_ok=True)
    if not configured:
        # Only the files seen here: a process starting beside this one may be creating its own.
        earlier = list(directory.glob("*.db"))
        if not any(_owner_alive(path) for path in earlier):
            for path in earlier:
                path.unlink(missing_ok=True)
    os.environ[ENV_NAME] = str(directory)
    return str(directory)


def _owner_alive(path: Path) -> bool:
    match = _PID_OF_FILE.search(path.name)
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return False  # a file left by an earlier process that had this process's id
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True
