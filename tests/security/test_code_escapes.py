"""Code nodes' sandbox against code that tries to get out: each attempt is contained and the worker (this
test process, with its pool) goes on serving. The harmless attempts of a language run as one probe whose
answer says what each attempt got; the ones that end a sandbox run one execution each."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from engine.sandbox import CodeAnswer, CodeJob, SandboxPool

SECRETS = {
    "DJANGO_SECRET_KEY": "canary-secret-key-5b1e",
    "DATABASE_URL": "postgres://canary:pw-77c2@127.0.0.1:5432/x",
    "REDIS_URL": "redis://:pw-91d0@127.0.0.1:6379/0",
}
SETTINGS_FILE = str(Path(settings.BASE_DIR) / "workflowsite" / "settings.py")


def run(pool: SandboxPool, language: str, code: str, *, timeout_s: float = 5, **inputs: object) -> CodeAnswer:
    return pool.run(CodeJob(language=language, code=code, inputs=dict(inputs), timeout_s=timeout_s))


@pytest.fixture(scope="module")
def web_server() -> Iterator[dict[str, object]]:
    """A loopback listener standing for the web server: it counts the connections it accepts."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen = {"port": listener.getsockname()[1], "accepted": 0}

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            seen["accepted"] = int(seen["accepted"]) + 1  # type: ignore[call-overload]
            connection.close()

    threading.Thread(target=accept, daemon=True).start()
    yield seen
    listener.close()


PYTHON_PROBE = """
import os, socket

def attempt(action):
    try:
        return "got " + repr(action())[:300]
    except BaseException as error:
        return "refused " + type(error).__name__

def connect(port):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
        return connection.recv(100)

def main(inputs):
    import subprocess, ctypes
    return {
        "/etc/passwd": attempt(lambda: open("/etc/passwd").read()),
        "settings file": attempt(lambda: open(inputs["settings"]).read()),
        "/proc/self/environ": attempt(lambda: open("/proc/self/environ", "rb").read()),
        "environment": attempt(lambda: dict(os.environ)),
        "postgresql": attempt(lambda: connect(5432)),
        "redis": attempt(lambda: connect(6379)),
        "web server": attempt(lambda: connect(inputs["web_port"])),
        "dns": attempt(lambda: socket.getaddrinfo(inputs["hostname"], 80)),
        "subprocess": attempt(lambda: subprocess.run(["touch", inputs["marker"]])),
        "ctypes": attempt(lambda: ctypes.CDLL("libc.so.6")),
    }
"""

JAVASCRIPT_PROBE = """
function attempt(action) {
  try { return "got " + String(Deno.inspect(action())).slice(0, 300); }
  catch (error) { return "refused " + error.name; }
}
async function attemptAsync(action) {
  try { return "got " + String(Deno.inspect(await action())).slice(0, 300); }
  catch (error) { return "refused " + error.name; }
}
async function connect(port) {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  connection.close();
  return "connected";
}
async function main(inputs) {
  return {
    "/etc/passwd": attempt(() => Deno.readTextFileSync("/etc/passwd")),
    "settings file": attempt(() => Deno.readTextFileSync(inputs.settings)),
    "/proc/self/environ": attempt(() => Deno.readTextFileSync("/proc/self/environ")),
    "environment": attempt(() => Deno.env.toObject()),
    "postgresql": await attemptAsync(() => connect(5432)),
    "redis": await attemptAsync(() => connect(6379)),
    "web server": await attemptAsync(() => fetch(`http://127.0.0.1:${inputs.web_port}/`)),
    "dns": await attemptAsync(() => Deno.resolveDns(inputs.hostname, "A")),
    "Deno.Command": attempt(() => new Deno.Command("touch", { args: [inputs.marker] }).outputSync()),
    "FFI": attempt(() => Deno.dlopen("libc.so.6", { system: { parameters: ["buffer"], result: "i32" } })),
    "import": await attemptAsync(() => import("https://deno.land/std/version.ts")),
  };
}
"""

PROBES = {"python": PYTHON_PROBE, "javascript": JAVASCRIPT_PROBE}
HOST_ATTEMPTS = ["/etc/passwd", "settings file", "/proc/self/environ", "environment", "postgresql", "redis"]
HOST_ATTEMPTS += ["web server", "dns"]
ATTEMPTS = {
    "python": [*HOST_ATTEMPTS, "subprocess", "ctypes"],
    "javascript": [*HOST_ATTEMPTS, "Deno.Command", "FFI", "import"],
}


@pytest.fixture(scope="module")
def probes(
    code_pool: SandboxPool, web_server: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, object]:
    marker = tmp_path_factory.mktemp("escapes") / "spawned"
    saved = {name: os.environ.get(name) for name in SECRETS}
    os.environ.update(SECRETS)
    hostname = socket.gethostname()
    try:
        answers = {
            language: run(
                code_pool,
                language,
                probe,
                settings=SETTINGS_FILE,
                web_port=web_server["port"],
                hostname=hostname,
                marker=str(marker),
            )
            for language, probe in PROBES.items()
        }
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return {"answers": answers, "marker": marker, "host_address": socket.gethostbyname(hostname)}


@pytest.mark.parametrize(
    ("language", "attempt"), [(lang, name) for lang, names in ATTEMPTS.items() for name in names]
)
def test_an_attempt_to_reach_the_host_is_contained(
    probes: dict[str, object], web_server: dict[str, object], language: str, attempt: str
) -> None:
    answer = probes["answers"][language]  # type: ignore[index]
    assert answer.error_kind is None, answer.message
    outcome = answer.value[attempt]
    seen = json.dumps(answer.value) + answer.printed
    for secret in SECRETS.values():
        assert secret not in seen
    assert "root:x:0:0" not in seen
    assert "ImproperlyConfigured" not in seen
    assert web_server["accepted"] == 0
    assert not Path(str(probes["marker"])).exists()
    if attempt == "dns":
        # Pyodide answers names from a table of its own; the host's resolver is never asked.
        assert str(probes["host_address"]) not in outcome or outcome.startswith("refused")
    elif attempt != "environment":
        assert outcome.startswith("refused"), outcome


ENDING = {
    ("python", "fork bomb"): (
        "import os\ndef main(inputs):\n    while True:\n        os.fork()\n",
        {"error"},
    ),
    ("javascript", "fork bomb"): (
        "function main(inputs) {\n  const src = 'data:text/javascript,' + encodeURIComponent(\n"
        "    'for(;;){ new Worker(self.location.href, {type: \"module\"}) }');\n"
        "  for (;;) new Worker(src, { type: 'module' });\n}\n",
        {"error", "memory", "timeout"},
    ),
    ("python", "allocate 2 GB"): (
        "def main(inputs):\n"
        "    chunks = [b'x' * (64 * 1024 * 1024) for _ in range(32)]\n"
        "    return len(chunks)\n",
        {"memory"},
    ),
    ("javascript", "allocate 2 GB"): (
        "function main(inputs) {\n  const chunks = [];\n"
        "  for (let i = 0; i < 32; i++) chunks.push(new Uint8Array(64 * 1024 * 1024).fill(1));\n"
        "  return chunks.length;\n}\n",
        {"memory"},
    ),
    ("python", "loop forever"): ("def main(inputs):\n    while True:\n        pass\n", {"timeout"}),
    ("javascript", "loop forever"): ("function main(inputs) { for (;;) {} }", {"timeout"}),
    ("python", "print 100 MB"): (
        "def main(inputs):\n    for _ in range(100):\n        print('x' * 1024 * 1024)\n",
        {"output_limit"},
    ),
    ("javascript", "print 100 MB"): (
        "function main(inputs) { for (let i = 0; i < 100; i++) console.log('x'.repeat(1024 * 1024)); }",
        {"output_limit"},
    ),
}


# Pyodide's libc answers these inside WebAssembly (os.system stops the runtime): nothing reaches the host.
SPAWNING = {
    "os.system": "import os\ndef main(inputs):\n    return os.system('touch ' + inputs['marker'])\n",
    "ctypes": "import ctypes\ndef main(inputs):\n"
    "    return ctypes.CDLL(None).system(('touch ' + inputs['marker']).encode())\n",
}


@pytest.mark.parametrize("attempt", list(SPAWNING))
def test_python_cannot_start_a_host_process(code_pool: SandboxPool, tmp_path: Path, attempt: str) -> None:
    marker = tmp_path / "spawned"
    answer = run(code_pool, "python", SPAWNING[attempt], marker=str(marker))
    assert not marker.exists(), answer


@pytest.mark.parametrize(("language", "attempt"), list(ENDING))
def test_code_that_exhausts_its_sandbox_is_stopped(
    code_pool: SandboxPool, language: str, attempt: str
) -> None:
    code, kinds = ENDING[(language, attempt)]
    answer = run(code_pool, language, code, timeout_s=2)
    assert answer.error_kind in kinds, (answer.error_kind, answer.message)
    assert len(answer.printed.encode()) <= settings.CODE_MAX_PRINT_BYTES


LEAVE_BEHIND = {
    "python": (
        "import builtins, sys\ndef main(inputs):\n"
        "    open('/tmp/left-behind', 'w').write('alice was here')\n"
        "    builtins.left_behind = 'alice was here'\n    sys.modules['left_behind'] = 'alice was here'\n"
        "    return 'written'\n",
        "import builtins, sys\ndef main(inputs):\n"
        "    found = []\n"
        "    try:\n        found.append(open('/tmp/left-behind').read())\n    except OSError:\n        pass\n"
        "    found.append(getattr(builtins, 'left_behind', None))\n"
        "    found.append(sys.modules.get('left_behind'))\n"
        "    return found\n",
    ),
    "javascript": (
        "function main(inputs) {\n  globalThis.leftBehind = 'alice was here';\n"
        "  try { Deno.writeTextFileSync('/tmp/left-behind', 'alice was here'); } catch {}\n"
        "  try { localStorage.setItem('leftBehind', 'alice was here'); } catch {}\n  return 'written';\n}\n",
        "function main(inputs) {\n  const found = [globalThis.leftBehind ?? null];\n"
        "  try { found.push(Deno.readTextFileSync('/tmp/left-behind')); } catch {}\n"
        "  try { found.push(localStorage.getItem('leftBehind')); } catch {}\n  return found;\n}\n",
    ),
}


@pytest.mark.parametrize("language", list(LEAVE_BEHIND))
def test_nothing_of_one_execution_reaches_the_next(code_pool: SandboxPool, language: str) -> None:
    alice, bob = LEAVE_BEHIND[language]
    assert run(code_pool, language, alice).value == "written"
    found = run(code_pool, language, bob)
    assert found.error_kind is None, found.message
    assert "alice was here" not in json.dumps(found.value)


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_the_pool_still_serves_after_the_escapes(code_pool: SandboxPool, language: str) -> None:
    code = (
        "def main(inputs):\n    return inputs['n'] + 1\n"
        if language == "python"
        else "const main = (i) => i.n + 1;"
    )
    assert run(code_pool, language, code, n=41).value == 42
