"""OpenAI-compatible HTTP endpoints (vLLM, llama.cpp server, Ollama, hosted APIs).

``/chat/completions`` when the generation config asks for the chat template,
else ``/completions``. Requests run concurrently (threads), each retried with
exponential backoff on connection errors, 429 and 5xx. The API key is read
from the environment variable the manifest names and is never stored.

Two bounds hold whatever the server does (#21):

* **Ctrl-C** stops the requests at once. They run on daemon threads the main thread
  waits for in short steps; on ``KeyboardInterrupt`` no new request or retry starts, the
  client is closed, and the requests still in flight are abandoned (a daemon thread never
  holds the process's exit). Answers reach the caller (and its cache) only from the main
  thread, after a whole round, so nothing half-made is written.
* **An answer's size** is capped: the body is read as a stream and a request fails, naming
  the endpoint and the limit, past ``max_answer_bytes`` (default 4 MiB, environment
  variable ``LINEAGE_ENDPOINT_MAX_ANSWER_BYTES``; a 64-token answer is a few hundred bytes).
  A server once answered 20 MB per probe: 4.2 GB of memory for 10 probes. The request's
  deadline is checked between the chunks too, so a server dripping bytes cannot outlast it.

:meth:`EndpointSource.echo_logprobs` reads the prompt's own log-probabilities for the
next-token channel (legacy ``/completions`` with ``echo`` and ``logprobs``, as vLLM's
OpenAI-compatible server answers it). A server that refuses or ignores it raises :class:`LogprobsUnavailable`:
the channel is then absent for that model, which is not a failure of the model.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Callable, Sequence, TypeVar

from lineage.dna.record import GenerationConfig
from lineage.errors import ConfigError, GenerationError, ModelLoadError

from lineage.manifest import redact_url

from .base import BatchCallback, GenerationStats, env_secret

__all__ = ["EndpointSource", "LogprobsUnavailable"]

# The most logprobs OpenAI's legacy completions answer; vLLM's default limit (20) is above TOP_K.
_FALLBACK_K = 5
#: The largest answer body read from a server, unless ``LINEAGE_ENDPOINT_MAX_ANSWER_BYTES`` says otherwise.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
MAX_ANSWER_ENV = "LINEAGE_ENDPOINT_MAX_ANSWER_BYTES"
#: How often the main thread looks up from waiting on requests (Ctrl-C is seen within this).
_POLL_S = 0.1

T = TypeVar("T")
R = TypeVar("R")


def answer_limit() -> int:
    """The answer-size cap: ``LINEAGE_ENDPOINT_MAX_ANSWER_BYTES`` (bytes, 1024 or more), else 4 MiB."""
    raw = os.environ.get(MAX_ANSWER_ENV)
    if raw is None or not raw.strip():
        return MAX_ANSWER_BYTES
    if not raw.strip().isdigit() or int(raw) < 1024:
        raise ConfigError(f"invalid setting {MAX_ANSWER_ENV}: needs a whole number of bytes, 1024 or more",
                          hint=f"unset it for the default ({MAX_ANSWER_BYTES} bytes), or set e.g. {MAX_ANSWER_ENV}=8388608")
    return int(raw)


class _Answer:
    """A server's answer, read whole within the size cap: what the callers use of ``httpx.Response``."""

    def __init__(self, status_code: int, content: bytes, encoding: str | None):
        self.status_code, self.content, self._encoding = status_code, content, encoding or "utf-8"

    @property
    def text(self) -> str:
        return self.content.decode(self._encoding, errors="replace")

    def json(self):
        return json.loads(self.content)


class LogprobsUnavailable(GenerationError):
    """The server does not return the prompt's log-probabilities (refused, or answered without them)."""

    hint = "serve the model with vLLM (or another server that answers echo + logprobs) for the next-token channel"


class EndpointSource:
    """A model served behind an OpenAI-compatible base URL (e.g. ``http://host:8000/v1``)."""

    kind = "endpoint"

    def __init__(self, model_id: str, *, endpoint: str, endpoint_model: str, api_key_env: str | None = None,
                 concurrency: int = 8, retries: int = 5, timeout: float = 120.0, dtype: str = "float32",
                 backoff: float = 1.0, deadline: float = 300.0, max_answer_bytes: int | None = None):
        from lineage.manifest import redact_url, url_credentials

        if not endpoint.startswith(("http://", "https://")):
            raise ModelLoadError(f"model {model_id!r}: endpoint {redact_url(endpoint)!r} is not an http(s) URL")
        why = url_credentials(endpoint)
        if why:  # never sent, stored or printed: the key belongs in the environment
            raise ModelLoadError(f"model {model_id!r}: the endpoint URL carries {why}",
                                 hint="remove it from the URL; put the key in an environment variable named by api_key_env")
        if api_key_env and env_secret(api_key_env) is None:
            raise ModelLoadError(f"model {model_id!r}: environment variable {api_key_env} (api_key_env) is not set",
                                 hint=f"export {api_key_env}=<key> before running")
        self.model_id = model_id
        self.endpoint = endpoint.rstrip("/")
        self.endpoint_model = endpoint_model
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.retries = retries
        self.timeout = timeout
        self.dtype = dtype
        self.backoff = backoff
        # one request's total wait, tries and pauses included: a server that never answers once held a
        # request for 6 x 120 s (#21); each try's timeout is cut to what is left of it
        self.deadline = deadline
        self.max_answer_bytes = max_answer_bytes if max_answer_bytes is not None else answer_limit()
        self._client = None
        self._cancel = threading.Event()  # set on Ctrl-C: no request or retry starts after it

    def identity(self) -> str:
        return f"endpoint:{self.endpoint}#{self.endpoint_model}"

    def resolved_dtype(self) -> str:
        # the server's dtype is not observable; the caller's configured dtype is recorded as asked
        return self.dtype

    def load(self) -> None:
        if self._client is None:
            import httpx

            headers = {}
            key = env_secret(self.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
            self._client = httpx.Client(base_url=self.endpoint, headers=headers, timeout=self.timeout)

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                client.close()
            except Exception:  # closing under requests abandoned on Ctrl-C: best effort
                pass

    def _map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]`` on up to ``concurrency`` daemon threads, in order.

        The main thread waits in steps of 0.1 s, so Ctrl-C is seen at once: it stops every
        request of this source (none starts after it), closes the client and propagates; the
        requests in flight are abandoned. When a request fails, no new one starts and the
        first failure (in ``items``' order) is raised once those in flight have ended."""
        items = list(items)
        results: list = [None] * len(items)
        errors: dict[int, BaseException] = {}
        lock, todo, stop = threading.Lock(), iter(range(len(items))), threading.Event()
        running = [0]
        finished = threading.Event()

        def worker():
            try:
                while not (stop.is_set() or self._cancel.is_set()):
                    with lock:
                        i = next(todo, None)
                    if i is None:
                        return
                    try:
                        results[i] = fn(items[i])
                    except BaseException as e:  # noqa: BLE001 - handed to the main thread
                        errors[i] = e
                        stop.set()
            finally:
                with lock:
                    running[0] -= 1
                    if running[0] == 0:
                        finished.set()

        n = min(self.concurrency, len(items))
        if n == 0:
            return []
        running[0] = n
        for _ in range(n):
            threading.Thread(target=worker, daemon=True, name=f"lineage-endpoint-{self.model_id}").start()
        try:
            while not finished.wait(_POLL_S):
                pass
        except BaseException:  # Ctrl-C (or any interruption of the waiting thread)
            self._cancel.set()
            self.close()
            raise
        if errors:
            raise errors[min(errors)]
        return results

    def _read(self, route: str, body: dict, timeout: float, end: float) -> _Answer:
        """One POST, its body read as a stream within the size cap and the deadline ``end``."""
        cap = self.max_answer_bytes
        with self._client.stream("POST", route, json=body, timeout=timeout) as r:
            declared = r.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise self._too_big(f"declared {int(declared):,} bytes")
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise self._too_big(f"more than {cap:,} bytes")
                chunks.append(chunk)
                if self._cancel.is_set():
                    raise KeyboardInterrupt
                if time.monotonic() > end:
                    raise GenerationError(f"model {self.model_id!r}: endpoint {redact_url(self.endpoint)} did not "
                                          f"finish its answer within {self.deadline:g} s",
                                          hint="check that the server is up")
            return _Answer(r.status_code, b"".join(chunks), r.encoding)

    def _too_big(self, what: str) -> GenerationError:
        return GenerationError(f"model {self.model_id!r}: endpoint {redact_url(self.endpoint)} answered {what}, "
                               f"above the limit of {self.max_answer_bytes:,} bytes per answer",
                               hint=f"check the server (a completion of max_new_tokens is far smaller); "
                                    f"raise the limit with {MAX_ANSWER_ENV}")

    def _post(self, route: str, body: dict) -> _Answer:
        """POST ``body``, retried with backoff on connection errors, 429 and 5xx; the first other
        answer (4xx included: the caller says what it means). An answer over the size cap fails
        at once (a server that sends one will send it again)."""
        import httpx

        delay, last, tries = self.backoff, "", 0
        end = time.monotonic() + self.deadline
        for attempt in range(self.retries + 1):
            left = end - time.monotonic()
            if left <= 0 or self._cancel.is_set():
                break
            tries += 1
            try:
                r = self._read(route, body, min(self.timeout, left), end)
                if r.status_code == 429 or r.status_code >= 500:
                    last = f"HTTP {r.status_code}"
                else:
                    return r
            except (httpx.HTTPError, RuntimeError) as e:  # RuntimeError: the client closed under it on Ctrl-C
                last = type(e).__name__
            if attempt < self.retries:
                self._cancel.wait(max(0.0, min(delay, end - time.monotonic())))
                delay = min(delay * 2, 30.0)
        if self._cancel.is_set():
            raise KeyboardInterrupt
        raise GenerationError(f"model {self.model_id!r}: endpoint {redact_url(self.endpoint)} failed after "
                              f"{tries} tries in {self.deadline:g} s at most ({last or 'no answer'})",
                              hint="check that the server is up")

    def _one(self, prompt: str, gen: GenerationConfig) -> tuple[str, int]:
        body: dict = {"model": self.endpoint_model, "max_tokens": gen.max_new_tokens,
                      "temperature": gen.temperature, "seed": gen.seed}
        if gen.do_sample:
            body["top_p"] = gen.top_p
        if gen.chat_template:
            route, body["messages"] = "/chat/completions", [{"role": "user", "content": prompt}]
        else:
            route, body["prompt"] = "/completions", prompt
        r = self._post(route, body)
        if r.status_code >= 400:
            raise GenerationError(f"model {self.model_id!r}: endpoint refused the request "
                                  f"(HTTP {r.status_code}: {r.text[:120]})",
                                  hint="check endpoint_model, the URL and the API key")
        try:
            data = r.json()
            ch = data["choices"][0]
            text = ch["message"]["content"] if gen.chat_template else ch["text"]
            n = int((data.get("usage") or {}).get("completion_tokens") or 0)
        except (KeyError, IndexError, TypeError, ValueError):
            raise GenerationError(f"model {self.model_id!r}: endpoint answered in an unexpected format",
                                  hint="the endpoint must be OpenAI-compatible (/v1/chat/completions)") from None
        return (text or "").strip(), n

    def _echo(self, prompt: str, k: int) -> dict:
        body = {"model": self.endpoint_model, "prompt": prompt, "echo": True, "logprobs": k, "max_tokens": 1,
                "temperature": 0.0}
        r = self._post("/completions", body)
        if r.status_code in (401, 403):  # the key, not the server's features: a user error
            raise GenerationError(f"model {self.model_id!r}: endpoint refused the request (HTTP {r.status_code})",
                                  hint="check the API key (api_key_env)")
        if r.status_code >= 400:
            raise LogprobsUnavailable(f"model {self.model_id!r}: endpoint refused echo + logprobs on /completions "
                                      f"(HTTP {r.status_code}: {' '.join(r.text[:100].split())})")
        try:
            lp = r.json()["choices"][0].get("logprobs")
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            lp = None
        why = _check_echo(lp, prompt)
        if why:
            raise LogprobsUnavailable(f"model {self.model_id!r}: endpoint answered /completions {why}")
        return lp

    def echo_logprobs(self, prompts: Sequence[str], top_k: int) -> tuple[int, list[dict]]:
        """Each prompt's own log-probabilities, read back with ``echo``: ``(k, answers)`` where
        ``answers[i]`` is ``choices[0].logprobs`` for ``prompts[i]`` (``tokens``, ``token_logprobs``,
        ``top_logprobs``: one ``{token_text: logprob}`` per token, the first null, and ``text_offset``:
        the character each token starts at; one generated token follows the prompt's).

        ``k`` is ``top_k``, or 5 when the server refuses ``top_k`` (OpenAI's limit).

        Raises
        ------
        LogprobsUnavailable
            The server refuses the request (4xx) or answers without the prompt's log-probabilities.
        GenerationError
            The server is down (after the retries) or refuses the API key.
        """
        self.load()
        if not prompts:
            return top_k, []
        ks = list(dict.fromkeys((top_k, min(top_k, _FALLBACK_K))))
        for n, k in enumerate(ks):  # the first prompt finds the k the server answers
            try:
                first = self._map(lambda p: self._echo(p, k), prompts[:1])[0]
                break
            except LogprobsUnavailable:
                if n == len(ks) - 1:
                    raise
        rest = self._map(lambda p: self._echo(p, k), prompts[1:])
        return k, [first, *rest]

    def generate(self, prompts: Sequence[str], indices: Sequence[int], gen: GenerationConfig,
                 on_batch: BatchCallback) -> GenerationStats:
        self.load()
        stats = GenerationStats(batch_size=self.concurrency)
        t0 = time.perf_counter()
        step = self.concurrency * 4  # persist progress every few rounds of requests
        for s in range(0, len(prompts), step):
            res = self._map(lambda p: self._one(p, gen), prompts[s:s + step])
            stats.n_tokens += sum(n for _, n in res)
            on_batch(list(indices[s:s + step]), [a for a, _ in res], [n for _, n in res])
        stats.seconds = time.perf_counter() - t0
        return stats


def _check_echo(lp, prompt: str) -> str | None:
    """Why ``lp`` (``choices[0].logprobs``) is not an echo of ``prompt``'s log-probabilities; None when it is."""
    if not isinstance(lp, dict):
        return "without logprobs"
    fields = [lp.get(f) for f in ("tokens", "top_logprobs", "text_offset")]
    if not all(isinstance(f, list) for f in fields) or len({len(f) for f in fields}) != 1:
        return "with logprobs in an unexpected format (tokens, top_logprobs, text_offset)"
    offsets = fields[2]
    if not all(isinstance(o, int) for o in offsets) or any(b < a for a, b in zip(offsets, offsets[1:])):
        return "with text offsets that are not increasing character positions"
    if sum(1 for o in offsets if o < len(prompt)) < 2:
        return "without echoing the prompt (echo unsupported)"
    if not any(isinstance(t, dict) and t for t, o in zip(fields[1], offsets) if 0 < o < len(prompt)):
        return "without top logprobs for the prompt's tokens"
    return None
