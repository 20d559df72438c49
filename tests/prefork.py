"""``python -m bot …`` / ``python -m emulator …`` started many times at the cost of one
interpreter start each.

The start-up tests (tests/unit/test_settings.py, test_startup_errors.py) run the
real command line in a new process and read its exit code and stderr (a bad
setting must stop it with one clear line, no traceback); the e2e scripts run the
real console (tests/e2e/test_scripts.py). Each start was ~3 s of CPU, almost all
of it importing aiogram (its ~300 pydantic types): ~45 starts were a few minutes
of the suite. Here one helper process (the "zygote", one per calling thread and
module) imports the command line's modules once and forks a fresh child per
start; the child takes the start's environment, working directory and stdin,
runs ``<module>.__main__.main`` exactly as ``python -m <module>`` does
(``sys.exit(main())``), and its exit code, stdout and stderr come back. What the
child sees is what a new process sees: nothing was configured or read before
the fork (logging, settings, event loop), only modules were imported; anything
the imports printed to stderr is prepended to every child's stderr, so "exactly
one line" still sees it.

Where ``os.fork`` is missing, or the zygote died, a plain subprocess runs.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_ZYGOTE = r"""
import json, os, signal, sys, tempfile, traceback
preamble_fd, preamble_path = tempfile.mkstemp()
saved = os.dup(2)
os.dup2(preamble_fd, 2)  # what the imports print to stderr, given to every child
import importlib
entry = importlib.import_module(sys.argv[1] + ".__main__")
for name in sys.argv[2:]:  # what main() imports at run time: imported once, here
    importlib.import_module(name)
sys.stderr.flush()
os.dup2(saved, 2)
with open(preamble_path, encoding="utf-8", errors="replace") as f:
    preamble = f.read()
os.unlink(preamble_path)
reply = sys.stdout
for line in sys.stdin:
    req = json.loads(line)
    in_fd, in_path = tempfile.mkstemp()
    os.write(in_fd, req["input"].encode()); os.lseek(in_fd, 0, 0)
    out_fd, out_path = tempfile.mkstemp()
    err_fd, err_path = tempfile.mkstemp()
    os.write(err_fd, preamble.encode())
    reply.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.alarm(int(req["timeout"]))  # a hung start ends like subprocess's timeout
            os.dup2(in_fd, 0); os.dup2(out_fd, 1); os.dup2(err_fd, 2)
            os.chdir(req["cwd"])
            os.environ.clear(); os.environ.update(req["env"])
            sys.argv = ["python -m " + sys.argv[1], *req["argv"]]
            try:
                code = entry.main(req["argv"])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if not isinstance(exc.code, int) and exc.code is not None:
                    print(exc.code, file=sys.stderr)
            except BaseException:
                traceback.print_exc()
                code = 1
        finally:
            try:
                sys.stdout.flush(); sys.stderr.flush()
            finally:
                os._exit(code if isinstance(code, int) else 1)
    _, status = os.waitpid(pid, 0)
    os.close(in_fd); os.close(out_fd); os.close(err_fd); os.unlink(in_path)
    texts = []
    for path in (out_path, err_path):
        with open(path, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
        os.unlink(path)
    code = os.waitstatus_to_exitcode(status)
    reply.write(json.dumps({"returncode": code, "stdout": texts[0], "stderr": texts[1]}) + "\n")
    reply.flush()
"""

PRELOAD = {
    "bot": ("bot.runner", "bot.cli", "bot.live", "storage.migrate"),
    "emulator": ("emulator.console", "bot.app", "storage.migrate"),
}
_lock = threading.Lock()
_zygotes: dict[tuple[str, int], subprocess.Popen[str]] = {}


def _zygote(module: str) -> subprocess.Popen[str] | None:
    """This thread's zygote of ``module`` (the e2e scripts run two at a time: two zygotes)."""
    if not hasattr(os, "fork"):
        return None
    key = (module, threading.get_ident())
    with _lock:
        found = _zygotes.get(key)
        if found is None or found.poll() is not None:
            env = {k: v for k, v in os.environ.items() if not k.startswith("ZAPIS_")}
            env["PYTHONPATH"] = str(ROOT)
            found = subprocess.Popen(
                [sys.executable, "-c", _ZYGOTE, module, *PRELOAD.get(module, ())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
                cwd=ROOT,
            )
            atexit.register(found.kill)
            _zygotes[key] = found
    return found


def run_module(
    module: str,
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: int = 60,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Like ``subprocess.run([python, "-m", module, *argv], …, capture_output=True)``."""
    command = [sys.executable, "-m", module, *argv]
    environ = dict(os.environ if env is None else env)
    zygote = _zygote(module)
    if zygote is not None and zygote.stdin is not None and zygote.stdout is not None:
        request = {
            "argv": argv,
            "env": environ,
            "cwd": str(cwd),
            "timeout": timeout,
            "input": input or "",
        }
        zygote.stdin.write(json.dumps(request) + "\n")
        zygote.stdin.flush()
        answer = zygote.stdout.readline()
        if answer:
            done = json.loads(answer)
            return subprocess.CompletedProcess(
                command, done["returncode"], done["stdout"], done["stderr"]
            )
    return subprocess.run(
        command, cwd=cwd, env=environ, input=input, capture_output=True, text=True, timeout=timeout
    )


def run_bot(
    argv: list[str], *, env: dict[str, str], cwd: Path, timeout: int = 60
) -> subprocess.CompletedProcess[str]:
    return run_module("bot", argv, env=env, cwd=cwd, timeout=timeout)
