"""A fake chef-client and a sandbox of runner paths for the tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

# The runner scrubs the environment, so the fake takes its behaviour from
# options after ``--`` and records what it saw as JSON lines in RECORD.
# --setsid-child SECONDS starts ``sleep SECONDS`` in a new session, as Chef's
# execute resource does (with --setsid-ignore-term it ignores SIGTERM), and
# --daemon SECONDS starts a double-forked ``sleep SECONDS`` that is no longer
# chef-client's descendant by the time chef-client sleeps. --quiet writes
# nothing to stdout, for a log file that accepts no writes.
FAKE_CHEF_CLIENT = r'''#!/usr/bin/python3
import json, os, signal, sys, time

RECORD = %(record)r


def record(event, **fields):
    fields.update(event=event, pid=os.getpid(), time=time.time())
    line = json.dumps(fields) + "\n"
    fd = os.open(RECORD, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, line.encode())
    os.close(fd)


def exec_sleep(seconds):
    try:
        os.execv("/bin/sleep", ["sleep", str(seconds)])
    finally:
        # Only reached when exec failed: the forked copy must not go on as chef-client.
        os._exit(127)


def start_setsid_command(seconds, ignore_term):
    # As Chef's execute resource does (mixlib-shellout calls setsid in the
    # child): the command gets its own session and process group.
    child = os.fork()
    if child == 0:
        os.setsid()
        if ignore_term:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        record("setsid_child", pgid=os.getpgid(0), sid=os.getsid(0), ppid=os.getppid())
        exec_sleep(seconds)


def start_daemon(seconds):
    # The classic double fork of an init script: the middle process exits at
    # once, so the daemon is reparented away from chef-client.
    middle = os.fork()
    if middle == 0:
        os.setsid()
        if os.fork() == 0:
            record("daemon", pgid=os.getpgid(0), sid=os.getsid(0))
            exec_sleep(seconds)
        os._exit(0)
    os.waitpid(middle, 0)


def main(argv):
    options = {"--sleep": 0.0, "--exit": 0, "--grandchild": 0.0, "--setsid-child": 0, "--daemon": 0}
    flags = set()
    index = 0
    while index < len(argv):
        word = argv[index]
        if word in options:
            options[word] = type(options[word])(argv[index + 1])
            index += 2
        else:
            flags.add(word)
            index += 1
    if "--ignore-term" in flags:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            fds[name] = os.readlink("/proc/self/fd/" + name)
        except OSError:
            pass
    if options["--grandchild"]:
        # A background process in chef-client's group that keeps stdout open.
        child = os.fork()
        if child == 0:
            if "--ignore-term" in flags:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(options["--grandchild"])
            os._exit(0)
        record("grandchild", child=child)
    if options["--setsid-child"]:
        start_setsid_command(options["--setsid-child"], "--setsid-ignore-term" in flags)
    if options["--daemon"]:
        start_daemon(options["--daemon"])
    # /proc/self/environ is the environment as exec'd; os.environ may have
    # gained LC_CTYPE from Python's own locale coercion.
    with open("/proc/self/environ", "rb") as stream:
        env = dict(item.decode().split("=", 1) for item in stream.read().split(b"\0") if item)
    record("start", argv=sys.argv, env=env, fds=fds,
           pgid=os.getpgid(0), sid=os.getsid(0), cwd=os.getcwd())
    if "--quiet" not in flags:
        print("fake chef-client output")
        sys.stdout.flush()
    time.sleep(options["--sleep"])
    record("end")
    return options["--exit"]


sys.exit(main(sys.argv[1:]))
'''


# uid and gid of nobody on Debian, which needs no entry in /etc/passwd to be used.
NOBODY = 65534


def write_fake_chef_client(path: Path, record: Path) -> Path:
    """Write the fake chef-client to ``path`` (mode 0755) recording into ``record``."""
    path.write_text(FAKE_CHEF_CLIENT % {"record": str(record)})
    path.chmod(0o755)
    return path


class Sandbox:
    """Lock, log, status and marker paths of one runner, all below ``root``."""

    def __init__(self, root: Path, zipapp: Path) -> None:
        self.root = root
        self.zipapp = zipapp
        self.lock = root / "lock" / "chef-cron.lock"
        self.log = root / "log" / "chef-cron.log"
        self.status = root / "state" / "status.json"
        self.firstboot = root / "run-lock" / "chef-firstboot"
        self.firstboot.parent.mkdir(mode=0o755)
        self.record = root / "record.jsonl"
        self.chef_client = write_fake_chef_client(root / "chef-client", self.record)
        self.textfile_dir = root / "textfile"

    def options(self, *extra: str) -> list[str]:
        """Return the ``run`` options that keep the runner inside the sandbox."""
        return [
            "--lock-file", str(self.lock),
            "--log-file", str(self.log),
            "--status-file", str(self.status),
            "--firstboot-file", str(self.firstboot),
            "--chef-client", str(self.chef_client),
            "--syslog-socket", "",
            "--kill-grace", "2",
            *extra,
        ]

    def command(self, *extra: str, chef_args: Sequence[str] = ()) -> list[str]:
        """Return the argv that runs the zipapp as cron does, with -I."""
        argv = [sys.executable, "-I", str(self.zipapp), "run", *self.options(*extra)]
        if chef_args:
            argv += ["--", *chef_args]
        return argv

    def start(self, *extra: str, chef_args: Sequence[str] = (), **popen: Any) -> subprocess.Popen:
        """Start a runner without waiting for it."""
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(self.command(*extra, chef_args=chef_args), **popen)

    def run(self, *extra: str, chef_args: Sequence[str] = (), timeout: float = 60) -> subprocess.CompletedProcess:
        """Run a runner to the end and return its exit code and output."""
        return subprocess.run(self.command(*extra, chef_args=chef_args), capture_output=True,
                              text=True, timeout=timeout, check=False)

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """Return what the fake chef-client recorded, optionally only one kind of event."""
        if not self.record.exists():
            return []
        lines = [json.loads(line) for line in self.record.read_text().splitlines()]
        return [line for line in lines if event is None or line["event"] == event]

    def status_record(self) -> dict[str, Any]:
        return json.loads(self.status.read_text())

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


# Forks a child that leads a new session, as the runner starts chef-client,
# and exits at once, so that the child is reparented to init like the
# chef-client of a runner killed by SIGKILL. It prints the child's pid.
ORPHAN_LAUNCHER = r'''
import os, sys
pid = os.fork()
if pid == 0:
    os.setsid()
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    try:
        os.execv(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
print(pid)
'''


def start_orphan(executable: Path, arguments: Sequence[str], env: dict[str, str]) -> int:
    """Start ``executable`` with ``arguments`` and ``env`` as a child of init, and return its pid."""
    result = subprocess.run([sys.executable, "-c", ORPHAN_LAUNCHER, str(executable), *arguments],
                            env=env, capture_output=True, text=True, timeout=30, check=True)
    return int(result.stdout)


def process_exists(pid: int) -> bool:
    """Return True if ``pid`` exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as stream:
            data = stream.read()
    except OSError:
        return False
    return data[data.rfind(")") + 2] != "Z"


def wait_gone(pid: int, timeout: float = 5) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit, and return True once it has.

    A SIGKILL takes effect asynchronously, so a process may outlive the
    runner that killed it by a few milliseconds.
    """
    deadline = time.monotonic() + timeout
    while process_exists(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def kill_quietly(pid: int) -> None:
    """Send SIGKILL to ``pid`` if it still exists, so a failed test leaves nothing running."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def group_exists(pgid: int) -> bool:
    """Return True if process group ``pgid`` has a member that is not a zombie."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stream:
                data = stream.read()
        except OSError:
            continue
        fields = data[data.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class Processes:
    """Start look-alike processes and end whatever is left at teardown."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[subprocess.Popen] = []
        self.user_dirs: list[Path] = []
        self.sleeper = root / "sleeper.py"
        self.sleeper.write_text("import signal, sys, time\n"
                                "if 'ignore-term' in sys.argv: signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                "time.sleep(600)\n")
        self.ruby = self._copy_python("ruby")

    def _copy_python(self, name: str) -> Path:
        # A copy of python3 under another name: /proc/PID/exe then shows that name.
        path = self.root / "bin" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(Path(os.path.realpath(sys.executable)).read_bytes())
        path.chmod(0o755)
        return path

    def start(self, executable: Path, argv: list[str], **popen: object) -> subprocess.Popen:
        process = subprocess.Popen(argv, executable=str(executable), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True, **popen)
        self.started.append(process)
        return process

    def chef_as_nobody(self, *arguments: str) -> subprocess.Popen:
        """Start, as uid and gid 65534, a python3 copy named chef-client with ``arguments``.

        This is what any local user can do: copy a program to a file named
        chef-client in a directory of their own and run it. The copy sits in
        a fresh 0755 directory under /tmp, because pytest's tmp_path is 0700
        and nobody could not run a program there.
        """
        directory = Path(tempfile.mkdtemp(prefix="chef-cron-user-", dir="/tmp"))
        directory.chmod(0o755)
        self.user_dirs.append(directory)
        executable = directory / "chef-client"
        executable.write_bytes(Path(os.path.realpath(sys.executable)).read_bytes())
        executable.chmod(0o755)
        return self.start(executable, ["chef-client", "-c", "import time; time.sleep(600)", *arguments],
                          user=NOBODY, group=NOBODY, extra_groups=[])

    def chef(self, *arguments: str) -> subprocess.Popen:
        """Start a ruby-named process whose script is named chef-client."""
        script = self.root / "opt" / "chef-client"
        if not script.exists():
            script.parent.mkdir()
            script.write_text(self.sleeper.read_text())
        return self.start(self.ruby, ["ruby", str(script), *arguments])

    def wait_running(self, process: subprocess.Popen) -> None:
        # The copy's cmdline and exe are final once the interpreter runs.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _cmdline(process.pid)[:1] == list(process.args[:1]) or process.poll() is not None:
                return
            time.sleep(0.02)

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait()
        for directory in self.user_dirs:
            shutil.rmtree(directory, ignore_errors=True)


def _cmdline(pid: int) -> list[str]:
    try:
        return Path("/proc/%d/cmdline" % pid).read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []
