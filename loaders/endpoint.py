"""OpenAI-compatible HTTP endpoints (vLLM, llama.cpp server, Ollama, hosted APIs).

``/chat/completions`` when the generation config asks for the chat template,
else ``/completions``. Requests run concurrently (threads), each retried with
exponential backoff on connection errors, 429 and 5xx. The API key is read
from the environment variable the manifest names and is never stored.

:meth:`EndpointSource.echo_logprobs` reads the prompt's own log-probabilities for the
next-token channel (legacy ``/completions`` with ``echo`` and ``logprobs``, as vLLM's
OpenAI-compatible server answers it). A server that refuses or ignores it raises :class:`LogprobsUnavailable`:
the channel is then absent for that model, which is not a failure of the model.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from lineage.dna.record import GenerationConfig
from lineage.errors import GenerationError, ModelLoadError

from lineage.manifest import redact_url

from .base import BatchCallback, GenerationStats, env_secret

__all__ = ["EndpointSource", "LogprobsUnavailable"]

# The most logprobs OpenAI's legacy completions answer; vLLM's default limit (20) is above TOP_K.
_FALLBACK_K = 5


class LogprobsUnavailable(GenerationError):
    """The server does not return the prompt's log-probabilities (refused, or answered without them)."""

    hint = "serve the model with vLLM (or another server that answers echo + logprobs) for the next-token channel"


class EndpointSource:
    """A model served behind an OpenAI-compatible base URL (e.g. ``http://host:8000/v1``)."""

    kind = "endpoint"

    def __init__(self, model_id: str, *, endpoint: str, endpoint_model: str, api_key_env: str | None = None,
                 concurrency: int = 8, retries: int = 5, timeout: float = 120.0, dtype: str = "float32",
                 backoff: float = 1.0, deadline: float = 300.0):
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
        self._client = None

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
            self._client.close()
            self._client = None

    def _post(self, route: str, body: dict):
        """POST ``body``, retried with backoff on connection errors, 429 and 5xx; the first other
        answer (4xx included: the caller says what it means)."""
        import httpx

        delay, last, tries = self.backoff, "", 0
        end = time.monotonic() + self.deadline
        for attempt in range(self.retries + 1):
            left = end - time.monotonic()
            if left <= 0:
                break
            tries += 1
            try:
                r = self._client.post(route, json=body, timeout=min(self.timeout, left))
                if r.status_code == 429 or r.status_code >= 500:
                    last = f"HTTP {r.status_code}"
                else:
                    return r
            except httpx.HTTPError as e:
                last = type(e).__name__
            if attempt < self.retries:
                time.sleep(max(0.0, min(delay, end - time.monotonic())))
                delay = min(delay * 2, 30.0)
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
                first = self._echo(prompts[0], k)
                break
            except LogprobsUnavailable:
                if n == len(ks) - 1:
                    raise
        with ThreadPoolExecutor(self.concurrency) as pool:
            rest = list(pool.map(lambda p: self._echo(p, k), prompts[1:]))
        return k, [first, *rest]

    def generate(self, prompts: Sequence[str], indices: Sequence[int], gen: GenerationConfig,
                 on_batch: BatchCallback) -> GenerationStats:
        self.load()
        stats = GenerationStats(batch_size=self.concurrency)
        t0 = time.perf_counter()
        step = self.concurrency * 4  # persist progress every few rounds of requests
        with ThreadPoolExecutor(self.concurrency) as pool:
            for s in range(0, len(prompts), step):
                res = list(pool.map(lambda p: self._one(p, gen), prompts[s:s + step]))
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
