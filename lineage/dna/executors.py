"""Where extractions run: in this process (``local``), or as Ray tasks on a cluster (``ray``).

An executor takes the models to extract and hands back, per model, its DNA or the
:class:`~lineage.errors.LineageError` that stopped it, in the order asked for. The
caller (``lineage ingest``, :func:`~lineage.dna.extract.extract_dna` behind ``lineage
extract``) writes results exactly as before, so the graph is written once, by one
process, whatever ran the models.

``local`` (the default) extracts lazily, one model at a time, when its result is
asked for: today's behaviour, progress bars included. ``ray`` submits every model at
once as one Ray task each (``num_gpus=1`` when the cluster has GPUs, else
``num_cpus=1``); tasks write their answers to the shared response cache after every
batch, and return the DNA and the extraction report through Ray's object store.

Failures, and why they are handled where they are:

* a model that fails (bad weights, degenerate answers...) raises a ``LineageError`` in
  the task; the task catches it and returns it, so it is recorded as failed exactly as
  with ``local`` and Ray does not retry it (retrying cannot fix a bad model);
* a worker that dies (killed, out of host memory, node lost) is a system failure: Ray
  resubmits the task up to ``max_retries`` times. The retry opens the same response
  cache, so the batches the dead worker finished are not generated again;
* a task that still fails after its retries becomes a ``GenerationError`` for that
  model (recorded as failed; a rerun resumes from the cache).

Connecting to a cluster has a deadline (#21: a well-formed but unreachable ``--address``
once waited for ever, deaf to Ctrl-C): the head's port is first tried with a plain TCP
connect (10 s at most), then ``ray.init`` runs on a daemon thread the caller waits for in
short steps, up to ``LINEAGE_RAY_CONNECT_TIMEOUT`` seconds in all (default 60). Either
failing is one :class:`~lineage.errors.ConfigError` naming the address. Starting a new local
cluster (no address) is not bounded this way: there is nothing to reach.

Ray is an optional extra (``pip install 'lineage[ray]'``) and is imported only when a
``RayExecutor`` is used.

Example
-------
>>> from lineage.dna.executors import make_executor
>>> ex = make_executor("ray", address="ray://head:10001")                  # doctest: +SKIP
>>> cfg = ex.configure(ExtractConfig(n_probes=100))                       # doctest: +SKIP
>>> run = ex.submit(Extractor(cfg, cache_dir="/shared/lineage"), entries)  # doctest: +SKIP
>>> dna = run.result(entries[0])          # DNA, or raises that model's LineageError  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable, Iterator, Literal, Sequence

from lineage.dna.extract import ExtractConfig, Extractor, ExtractReport, ExtractResult, entry_from
from lineage.dna.record import DNA
from lineage.errors import ConfigError, GenerationError, LineageError
from lineage.manifest import ManifestEntry

__all__ = ["ExecutorName", "LocalExecutor", "RayExecutor", "make_executor", "extract_all", "extract_each"]

ExecutorName = Literal["local", "ray"]

#: Worker deaths Ray absorbs per model before the model is recorded as failed.
MAX_RETRIES = 3
#: Tries to start a new local cluster: on a busy machine Ray's raylet gives its agents a
#: hard-coded 15 s to start and otherwise aborts (ray-project/ray#65983); a retry usually passes.
START_ATTEMPTS = 3
#: Seconds a connect to an existing cluster may take, unless ``LINEAGE_RAY_CONNECT_TIMEOUT`` says otherwise.
CONNECT_TIMEOUT = 60.0
CONNECT_TIMEOUT_ENV = "LINEAGE_RAY_CONNECT_TIMEOUT"
#: The TCP probe of the head's port, at most (within the connect deadline).
PROBE_TIMEOUT = 10.0


def connect_timeout() -> float:
    """``LINEAGE_RAY_CONNECT_TIMEOUT`` (seconds, 1 to 3600), else 60."""
    raw = (os.environ.get(CONNECT_TIMEOUT_ENV) or "").strip()
    if not raw:
        return CONNECT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 1 <= value <= 3600:
        raise ConfigError(f"invalid setting {CONNECT_TIMEOUT_ENV}: needs a number of seconds from 1 to 3600",
                          hint=f"unset it for the default ({CONNECT_TIMEOUT:g} s)")
    return value


def _unreachable(address: str, why: str, seconds: float) -> ConfigError:
    return ConfigError(f"cannot connect to the Ray cluster at {address} within {seconds:g} s ({why})",
                       hint=f"check --address (HOST:6379 or ray://HOST:10001), that the head is up and reachable "
                            f"from here, or allow longer with {CONNECT_TIMEOUT_ENV}")


def probe_address(address: str, timeout: float) -> None:
    """Open (and close) a TCP connection to ``address``'s host and port within ``timeout``
    seconds; one :class:`ConfigError` naming the address when that fails."""
    import socket

    rest = address[len("ray://"):] if address.startswith("ray://") else address
    host, _, port = rest.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except socket.timeout:
        raise _unreachable(address, "no answer to a TCP connect", timeout) from None
    except OSError as e:
        raise _unreachable(address, e.strerror or type(e).__name__, timeout) from None


def _bounded(fn: Callable[[], Any], seconds: float, address: str, shown: float) -> None:
    """Run ``fn`` on a daemon thread; its exception, or a ConfigError when it takes longer
    than ``seconds`` (the thread is then abandoned: a daemon never holds the process's exit)."""
    done, box = threading.Event(), {}

    def body():
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=body, daemon=True, name="lineage-ray-connect").start()
    end = time.monotonic() + seconds
    while not done.wait(0.1):
        if time.monotonic() > end:
            raise _unreachable(address, "the cluster did not answer", shown)
    if "error" in box:
        raise box["error"]


class LocalExecutor:
    """Extract in this process, one model at a time, when its result is asked for."""

    name = "local"

    def configure(self, config: "ExtractConfig | None", **defaults) -> "ExtractConfig | None":
        return config

    def submit(self, extractor: "Extractor", entries: Sequence) -> "_LocalRun":
        return _LocalRun(extractor)

    def close(self) -> None:
        pass


class _LocalRun:
    def __init__(self, extractor: "Extractor"):
        self.extractor = extractor

    def result(self, entry) -> "DNA":
        return self.outcome(entry)[0]

    def outcome(self, entry) -> tuple["DNA", "ExtractReport"]:
        return self.extractor.extract_with_report(entry)


class RayExecutor:
    """One Ray task per model, on a local or an existing Ray cluster.

    Parameters
    ----------
    address : str, optional
        Ray cluster address (``auto``, ``HOST:6379`` or ``ray://HOST:10001``). None: the
        cluster ``RAY_ADDRESS`` names, or a new local one. When Ray is already initialised
        in this process (a notebook, a test), that session is used and left running.
    num_gpus : float, optional
        GPUs per task. None: 1 when the cluster has GPUs, else 0 (CPU tasks).
    num_cpus : float
        CPUs per task when it runs without a GPU.
    max_retries : int
        Times Ray resubmits a task whose worker died.
    task : callable, optional
        ``task(config, cache_dir, entry) -> (DNA, ExtractReport)`` run on the worker;
        default :func:`extract_on_worker`. Tests wrap it to kill a worker mid-way.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, num_gpus: float | None = None, num_cpus: float = 1,
                 max_retries: int = MAX_RETRIES, task: Callable | None = None):
        self.address = address
        self.num_gpus = num_gpus
        self.num_cpus = num_cpus
        self.max_retries = max_retries
        self.task = task
        self._started = False
        self._ray: Any = None

    # -- connection ------------------------------------------------------------------
    def _connect(self):
        if self._ray is not None:
            return self._ray
        try:
            import ray
        except ImportError:
            raise ConfigError("the ray executor needs Ray, which is not installed",
                              hint="pip install 'lineage[ray]' (or pip install 'ray>=2.40'), or use the local executor") from None
        if not ray.is_initialized():
            target = self.address or os.environ.get("RAY_ADDRESS") or None
            remote = target not in (None, "auto", "local")
            if remote:
                seconds = connect_timeout()
                end = time.monotonic() + seconds
                probe_address(target, min(PROBE_TIMEOUT, seconds))
                # the connect runs off the main thread: Ray's note that it cannot set its SIGTERM handler
                # there, and its core's retry chatter (C++ warnings), would bury the one error line
                os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
                logging.getLogger("ray._private.worker").addFilter(
                    lambda r: "SIGTERM handler is not set" not in r.getMessage())
            for attempt in range(START_ATTEMPTS):
                try:
                    def init():
                        ray.init(address=self.address, log_to_driver=False, include_dashboard=False,
                                 configure_logging=False)

                    if remote:
                        _bounded(init, max(1.0, end - time.monotonic()), target, seconds)
                    else:
                        init()
                    break
                except ConfigError:
                    raise
                except Exception as e:  # Ray raises bare Exception when a local node fails to start
                    ray.shutdown()
                    if attempt + 1 < START_ATTEMPTS and not isinstance(e, (ConnectionError, ValueError)):
                        continue  # a slow agent start on a busy machine (ray-project/ray#65983): try again
                    raise ConfigError(
                        f"cannot connect to the Ray cluster at {self.address or 'RAY_ADDRESS / a new local one'}: "
                        f"{str(e).splitlines()[0][:200] if str(e) else type(e).__name__}",
                        hint="check --address (HOST:6379 or ray://HOST:10001) and that the head is up") from None
            self._started = True
        self._ray = ray
        return ray

    def gpus_per_task(self) -> float:
        if self.num_gpus is not None:
            return float(self.num_gpus)
        ray = self._connect()
        return 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0

    def configure(self, config: "ExtractConfig | None", **defaults) -> "ExtractConfig":
        """Pin ``auto`` device and dtype to what the workers will use.

        The driver may have no GPU while the workers do; the DNA's provenance (and the
        cache key) must name the dtype the workers generate in, so it is decided here:
        CUDA and bfloat16 on a GPU cluster, CPU and float32 otherwise. ``defaults`` build
        the config when none is given (``ExtractConfig(**defaults)``).
        """
        if config is None:
            config = ExtractConfig(**defaults)
        gpu = self.gpus_per_task() > 0
        update: dict = {}
        if config.device == "auto":
            update["device"] = "cuda" if gpu else "cpu"
        if config.dtype == "auto":
            update["dtype"] = "bfloat16" if (update.get("device", config.device)).startswith("cuda") else "float32"
        return config.model_copy(update=update) if update else config

    def submit(self, extractor: "Extractor", entries: Sequence) -> "_RayRun":
        """Start one task per entry now; results are collected by :meth:`_RayRun.result`."""
        ray = self._connect()
        gpus = self.gpus_per_task()
        opts = dict(max_retries=self.max_retries, retry_exceptions=False)
        opts.update(num_gpus=gpus, num_cpus=0) if gpus > 0 else opts.update(num_cpus=self.num_cpus)
        remote = ray.remote(_ray_task).options(**opts)
        config_json = extractor.config.model_dump_json()
        cache_dir = str(extractor.cache.root)
        task = self.task or extract_on_worker
        refs = {}
        for e in map(entry_from, entries):
            if e.source_kind == "dna":  # nothing to generate: read on the driver
                continue
            if e.path is not None:  # workers need not share the driver's working directory
                e = e.model_copy(update={"path": e.path.expanduser().resolve()})
            refs[e.id] = remote.remote(task, config_json, cache_dir, e.model_dump(mode="json"))
        return _RayRun(ray, extractor, refs)

    def close(self) -> None:
        if self._started and self._ray is not None:
            self._ray.shutdown()
        self._ray, self._started = None, False


class _RayRun:
    def __init__(self, ray, extractor: "Extractor", refs: dict):
        self.ray, self.extractor, self.refs = ray, extractor, refs

    def result(self, entry) -> "DNA":
        return self.outcome(entry)[0]

    def outcome(self, entry) -> tuple["DNA", "ExtractReport"]:
        entry = entry_from(entry)
        if entry.id not in self.refs:  # not submitted (e.g. a precomputed DNA): run it here
            return self.extractor.extract_with_report(entry)
        ref = self.refs.pop(entry.id)
        ray = self.ray
        try:
            status, payload = ray.get(ref)
        except ray.exceptions.RayTaskError as e:  # a non-lineage exception in the task: as with local, it propagates
            cause = getattr(e, "cause", None)
            raise (cause if isinstance(cause, BaseException) else e) from None
        except ray.exceptions.RayError as e:  # worker or node died more than max_retries times
            raise GenerationError(f"model {entry.id!r}: its Ray worker died and the retries ran out "
                                  f"({type(e).__name__})",
                                  hint="rerun: answers already generated are in the response cache") from None
        if status == "error":
            raise _error_from(payload)
        dna, report = payload
        self.extractor.reports.append(report)
        if self.extractor.progress:
            n = report.n_cached + report.n_generated
            self.extractor.progress(entry.id, n, n, report.n_tokens)
        return dna, report


# -- the worker side --------------------------------------------------------------------
_extractors: dict[tuple[str, str], Any] = {}


def extract_on_worker(config: "ExtractConfig", cache_dir: str, entry) -> tuple["DNA", "ExtractReport"]:
    """Extract one model (on a Ray worker): the same :class:`Extractor` code path as local.

    The extractor (and so the encoder) is kept per worker process and reused by the
    next task with the same settings.
    """
    key = (config.model_dump_json(), cache_dir)
    ex = _extractors.get(key)
    if ex is None:
        ex = _extractors[key] = Extractor(config, cache_dir=cache_dir)
    return ex.extract_with_report(entry)


def _ray_task(task: Callable, config_json: str, cache_dir: str, entry_json: dict):
    """The Ray remote body: rebuild config and entry, run ``task``, return a tagged result."""

    entry = ManifestEntry.model_validate(entry_json)
    try:
        return "ok", task(ExtractConfig.model_validate_json(config_json), cache_dir, entry)
    except LineageError as e:  # the model failed: recorded as failed by the driver, never retried
        return "error", (type(e).__name__, e.message, e.hint)


def _error_from(payload: tuple[str, str, str | None]) -> LineageError:
    import lineage.errors as errors

    name, message, hint = payload
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, LineageError)):
        cls = LineageError
    return cls(message, hint=hint)


def make_executor(name: "ExecutorName | str | LocalExecutor | RayExecutor" = "local",
                  address: str | None = None) -> LocalExecutor | RayExecutor:
    """The executor called ``name`` (``local`` or ``ray``); ``address`` only for Ray.
    An executor object is returned as it is (Python callers configure their own)."""
    if isinstance(name, (LocalExecutor, RayExecutor)):
        return name
    if name == "local":
        if address is not None:
            raise ConfigError("a cluster address is for the ray executor", hint="choose the ray executor, or drop the address")
        return LocalExecutor()
    if name == "ray":
        return RayExecutor(check_ray_address(address))
    raise ConfigError(f"unknown executor {name!r}", hint="use local or ray")


def check_ray_address(address: str | None) -> str | None:
    """``address`` when it can name a Ray cluster (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``,
    the port 1 to 65535); else one :class:`ConfigError`. Checked before anything connects:
    ``127.0.0.1:99999`` once made the connect wait forever."""
    if address is None or address == "auto":
        return address
    rest = address[len("ray://"):] if address.startswith("ray://") else address
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"--address {address[:80]!r} is not a Ray cluster address",
                          hint="use auto, HOST:6379 or ray://HOST:10001 (a port from 1 to 65535)")
    return address


def extract_each(extractor: "Extractor", entries: Sequence, executor: LocalExecutor | RayExecutor,
                 on_start: Callable[[Any], None] | None = None
                 ) -> Iterator[tuple[Any, "ExtractResult | LineageError"]]:
    """``(entry, ExtractResult or the LineageError that stopped it)`` for every entry, in order.

    ``on_start(entry)`` is called just before an entry's result is awaited: with ``local``
    that is when the model starts; with ``ray`` every task already runs.
    """
    entries = [entry_from(e) for e in entries]
    run = executor.submit(extractor, entries)
    for e in entries:
        if on_start is not None:
            on_start(e)
        try:
            yield e, ExtractResult(*run.outcome(e))
        except LineageError as err:
            yield e, err


def extract_all(extractor: "Extractor", entries: Sequence, executor: LocalExecutor | RayExecutor
                ) -> Iterator[tuple[Any, "DNA | LineageError"]]:
    """``(entry, DNA or the LineageError that stopped it)`` for every entry, in order
    (:func:`extract_each` without the reports; entries are given back as they were passed)."""
    for e, (_, outcome) in zip(entries, extract_each(extractor, entries, executor)):
        yield e, outcome if isinstance(outcome, LineageError) else outcome.dna
