"""The local Neo4j server that ``lineage db`` manages, without Docker.

Neo4j 5.26 LTS Community is assembled from its jars on Maven Central (a small
pom resolved by ``mvn dependency:copy-dependencies``; Maven's ``~/.m2`` cache
makes later provisioning offline-fast) and run on Java 17 as one JVM
(``org.neo4j.server.CommunityEntryPoint``). Everything lives under
``<state_dir>/neo4j`` (default ``~/.local/state/lineage/neo4j``)::

    lib-<version>/   the jars (written to a temp folder, then renamed)
    conf/neo4j.conf  written by us on every start
    data/ logs/      the database and the server logs
    password         the generated password, mode 0600
    neo4j.pid        the server's pid while it runs

Security defaults: listens on 127.0.0.1 only and advertises the configured ports
(Browser and routing clients are sent to this server, not to 7687); auth on; the
random password is set *before* the first start (``data/dbms/auth.ini``, what
``neo4j-admin dbms set-initial-password`` writes), so the built-in ``neo4j/neo4j``
never works, not even for a moment; the state folders are mode 0700 and the server
runs with umask 077, so data, logs and conf are private to the user.

A lost password file is recovered by ``start``: the server is stopped, its user
database (the ``system`` database: users and settings, not the graph) is set aside
and a new password is set the same way; the graph (database ``neo4j``) is kept.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from lineage.errors import ServerError
from lineage.settings import Settings

NEO4J_VERSION = "5.26.30"
BROWSER_VERSION = "5.24.0"
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"

# The stock distribution's JVM flags (see shared notes); java.nio add-opens matters for vector indexes.
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
]


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    version: str
    bolt_uri: str
    browser_url: str
    home: str
    log_file: str
    password_file: str

    def as_dict(self) -> dict:
        return asdict(self)


# -- paths -----------------------------------------------------------------

def _home(s: Settings) -> Path:
    return s.neo4j_home


def _lib(s: Settings) -> Path:
    return _home(s) / f"lib-{NEO4J_VERSION}"


def _pid_file(s: Settings) -> Path:
    return _home(s) / "neo4j.pid"


def _console_log(s: Settings) -> Path:
    return _home(s) / "logs" / "console.log"


# -- provisioning ------------------------------------------------------------

def _java(s: Settings) -> str:
    cand = Path(s.java_home) / "bin" / "java" if s.java_home else None
    exe = str(cand) if cand and cand.exists() else shutil.which("java")
    if not exe:
        raise ServerError("Java was not found", hint="install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)")
    return exe


def provision(s: Settings) -> Path:
    """Resolve the server jars into ``lib-<version>`` (once); returns that folder."""
    lib = _lib(s)
    if (lib / ".complete").exists():
        return lib
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServerError("Maven (mvn) was not found; it is needed once to fetch the Neo4j jars",
                          hint="install Maven (apt-get install maven), or use docker compose / an existing Neo4j")
    _home(s).mkdir(parents=True, exist_ok=True)
    pom = resources.files("lineage").joinpath("data/neo4j-pom.xml").read_text()
    pom = pom.replace("@NEO4J_VERSION@", NEO4J_VERSION).replace("@BROWSER_VERSION@", BROWSER_VERSION)
    with tempfile.TemporaryDirectory(dir=_home(s), prefix=".provision-") as tmp:
        (Path(tmp) / "pom.xml").write_text(pom)
        jars = Path(tmp) / "lib"
        proc = subprocess.run(
            [mvn, "-B", "-q", "-f", str(Path(tmp) / "pom.xml"), "dependency:copy-dependencies",
             "-DincludeScope=runtime", f"-DoutputDirectory={jars}"],
            capture_output=True, text=True,
        )
        if proc.returncode != 0 or not any(jars.glob("neo4j-*.jar")):
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise ServerError(f"could not fetch the Neo4j {NEO4J_VERSION} jars with Maven:\n{tail}")
        (jars / ".complete").write_text(NEO4J_VERSION)
        if lib.exists():
            shutil.rmtree(lib)
        jars.rename(lib)
    return lib


def _private_dirs(s: Settings) -> None:
    """The state folders exist and are mode 0700 (files inside are then private whatever their mode)."""
    home = _home(s)
    for d in (home.parent, home, home / "conf", home / "data", home / "logs", home / "plugins"):
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o700)


def _write_conf(s: Settings) -> Path:
    conf_dir = _home(s) / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "neo4j.conf").write_text(
        "# written by `lineage db start`; edits are overwritten (use LINEAGE_* settings)\n"
        "server.default_listen_address=127.0.0.1\n"
        "server.default_advertised_address=127.0.0.1\n"
        f"server.bolt.listen_address=:{s.bolt_port}\n"
        f"server.bolt.advertised_address=:{s.bolt_port}\n"
        f"server.http.listen_address=:{s.http_port}\n"
        f"server.http.advertised_address=:{s.http_port}\n"
        "server.https.enabled=false\n"
        "server.directories.data=data\n"
        "server.directories.logs=logs\n"
        f"server.memory.heap.initial_size={s.heap_size}\n"
        f"server.memory.heap.max_size={s.heap_size}\n"
        f"server.memory.pagecache.size={s.pagecache_size}\n"
        "dbms.usage_report.enabled=false\n"
        "dbms.security.auth_enabled=true\n"
    )
    return conf_dir


# -- process bookkeeping -----------------------------------------------------

def _is_our_server(s: Settings, pid: int) -> bool:
    """``pid`` runs this state folder's Neo4j (its entry point with our ``--home-dir``) as this user."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        owner = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return False
    # Only our server counts: a recycled pid belonging to something else does not.
    return owner == os.getuid() and ENTRY_POINT in args and f"--home-dir={_home(s)}" in args


def _find_server(s: Settings) -> int | None:
    """The pid of this state folder's server found among the running processes, or None."""
    try:
        pids = sorted(int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit())
    except OSError:
        return None
    return next((pid for pid in pids if _is_our_server(s, pid)), None)


def _read_pid(s: Settings) -> int | None:
    """The server's pid: the pid file's, checked against the process it names; when the file is
    missing, damaged or names another process, the server is looked up among the processes (and
    the file rewritten), so a damaged file never makes a running server look stopped (#21)."""
    try:
        pid = int(_pid_file(s).read_text().strip())
    except (OSError, ValueError):
        pid = None
    if pid is not None and _is_our_server(s, pid):
        return pid
    found = _find_server(s)
    if found is not None:
        try:
            _pid_file(s).write_text(str(found))
        except OSError:
            pass  # the answer stands; the file is repaired next time
    return found


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(s: Settings, n: int = 20) -> str:
    lines: list[str] = []
    for f in (_console_log(s), _home(s) / "logs" / "neo4j.log"):
        if f.exists():
            lines += f.read_text(errors="replace").splitlines()[-n:]
    return "\n".join(lines[-n:])


def status(s: Settings) -> ServerStatus:
    """Whether the managed server runs, where, and which version."""
    pid = _read_pid(s)
    return ServerStatus(
        running=pid is not None and _port_open(s.bolt_port),
        pid=pid,
        version=NEO4J_VERSION,
        bolt_uri=f"bolt://127.0.0.1:{s.bolt_port}",
        browser_url=f"http://127.0.0.1:{s.http_port}/browser/",
        home=str(_home(s)),
        log_file=str(_console_log(s)),
        password_file=str(s.password_file),
    )


# -- password ------------------------------------------------------------------

def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _system_db(s: Settings) -> list[Path]:
    data = _home(s) / "data"
    return [data / "databases" / "system", data / "transactions" / "system"]


def _auth_ini_line(password: str) -> str:
    """The ``neo4j`` user record Neo4j reads from ``data/dbms/auth.ini`` when it creates its
    system database: SHA-256 over salt + password, iterated 1024 times (as ``neo4j-admin dbms
    set-initial-password`` writes it), no password change required."""
    salt = secrets.token_bytes(32)
    h = hashlib.sha256(salt + password.encode("utf-8")).digest()
    for _ in range(1023):
        h = hashlib.sha256(h).digest()
    return f"neo4j:SHA-256,{h.hex()},{salt.hex()},1024:\n"


def _set_initial_password(s: Settings) -> None:
    """Before a start that creates the system database: a new password in the password file
    and in ``auth.ini``, so the server never accepts the default one."""
    wanted = secrets.token_urlsafe(18)
    _write_secret(_home(s) / "data" / "dbms" / "auth.ini", _auth_ini_line(wanted).rstrip("\n"))
    _write_secret(s.password_file, wanted)


def _prepare_auth(s: Settings, note: Callable[[str], None]) -> None:
    """Called before the server starts: set the initial password on a first start, or
    recover from a lost password file by recreating the system database."""
    first_start = not any(p.exists() for p in _system_db(s))
    if first_start:
        _set_initial_password(s)
        return
    if s.password_file.is_file():
        return
    aside = _home(s) / "data" / f"system-lost-password-{time.strftime('%Y%m%d-%H%M%S')}"
    aside.mkdir(parents=True, exist_ok=True)
    for p in _system_db(s):
        if p.exists():
            p.rename(aside / p.parent.name)
    _set_initial_password(s)
    note(f"the password file {s.password_file} was missing: a new password was set (the graph is kept; "
         f"the old user database was moved to {aside})")


def _ensure_password(s: Settings) -> None:
    """Make the server's password equal the one in the password file (creating it on first start)."""
    import neo4j
    from neo4j.exceptions import AuthError, ClientError

    uri = f"bolt://127.0.0.1:{s.bolt_port}"
    if s.password_file.exists():
        wanted = s.password_file.read_text().strip()
        try:
            with neo4j.GraphDatabase.driver(uri, auth=("neo4j", wanted)) as d:
                d.verify_connectivity()
            return
        except AuthError:
            pass  # file written but the change never reached the server: finish it below
    else:
        raise ServerError(f"the local server runs but its password file {s.password_file} is missing",
                          hint="run `lineage db stop` then `lineage db start`: the start sets a new password")
    try:
        with neo4j.GraphDatabase.driver(uri, auth=("neo4j", "neo4j")) as d:
            d.execute_query(_schema_statement("change_initial_password"), new=wanted, database_="system")
    except (AuthError, ClientError) as e:
        raise ServerError(
            "the local server's password matches neither the password file nor the initial one",
            hint=f"if you changed it, write it to {s.password_file}; or remove {_home(s) / 'data'} to start afresh",
        ) from e


def _schema_statement(name: str) -> str:
    from lineage.graph.queries import load_library

    return load_library().get(name).text


# -- start / stop ----------------------------------------------------------------

def start(s: Settings, *, timeout: float = 180.0, note: Callable[[str], None] | None = None) -> ServerStatus:
    """Provision if needed, set the password (before the first start), start the server,
    wait until Bolt answers, check the password.

    Starting a running server is harmless: it returns its status. A running server whose
    password file was deleted is restarted so that a new password can be set; ``note``
    receives a message saying so.
    """
    note = note or (lambda msg: None)
    st = status(s)
    if st.running and not s.password_file.is_file():
        note("the password file is missing: restarting the local server to set a new password")
        stop(s)
        st = status(s)
    if st.running:
        _private_dirs(s)
        _ensure_password(s)
        return st
    for port, what in ((s.bolt_port, "Bolt"), (s.http_port, "HTTP")):
        if _port_open(port):
            raise ServerError(
                f"port {port} ({what}) is already in use by another process",
                hint=f"stop that process, or choose other ports with LINEAGE_BOLT_PORT / LINEAGE_HTTP_PORT",
            )
    _private_dirs(s)
    lib = provision(s)
    conf = _write_conf(s)
    home = _home(s)
    _prepare_auth(s, note)
    cmd = [
        _java(s), f"-Xms{s.heap_size}", f"-Xmx{s.heap_size}", *JVM_FLAGS,
        "-cp", f"{lib}/*:{home}/plugins/*", ENTRY_POINT,
        f"--home-dir={home}", f"--config-dir={conf}", "--console-mode",
    ]
    fd = os.open(_console_log(s), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    log = os.fdopen(fd, "ab")
    proc = subprocess.Popen(cmd, cwd=home, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, umask=0o077)
    log.close()
    _pid_file(s).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            _pid_file(s).unlink(missing_ok=True)
            why = {1: "web server failed", 2: "database failed", 3: "invalid configuration"}.get(code, "exited")
            raise ServerError(f"Neo4j stopped during start-up ({why}, exit {code}); server log:\n{_log_tail(s)}")
        if _port_open(s.bolt_port) and _port_open(s.http_port):
            break
        time.sleep(0.5)
    else:
        stop(s)
        raise ServerError(f"Neo4j did not answer on Bolt within {timeout:.0f} s; server log:\n{_log_tail(s)}")
    _ensure_password(s)
    return status(s)


def stop(s: Settings, *, timeout: float = 60.0) -> bool:
    """Shut the server down cleanly (SIGTERM, then wait). Returns False if it was not running."""
    pid = _read_pid(s)
    if pid is None:
        _pid_file(s).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    _pid_file(s).unlink(missing_ok=True)
    return True


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return True
