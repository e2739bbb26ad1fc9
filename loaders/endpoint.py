"""OpenAI-compatible HTTP endpoints (vLLM, llama.cpp server, Ollama, hosted APIs).

``/chat/completions`` when the generation config asks for the chat template,
else ``/completions``. Requests run concurrently (threads), each retried with
exponential backoff on connection errors, 429 and 5xx. The API key is read
from the environment variable the manifest names and is never stored.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from lineage.dna.record import GenerationConfig
from lineage.errors import GenerationError, ModelLoadError

from lineage.manifest import redact_url

from .base import BatchCallback, GenerationStats, env_secret

__all__ = ["EndpointSource"]


class EndpointSource:
    """A model served behind an OpenAI-compatible base URL (e.g. ``http://host:8000/v1``)."""

    kind = "endpoint"

    def __init__(self, model_id: str, *, endpoint: str, endpoint_model: str, api_key_env: str | None = None,
                 concurrency: int = 8, retries: int = 5, timeout: float = 120.0, dtype: str = "float32",
                 backoff: float = 1.0):
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

    def _one(self, prompt: str, gen: GenerationConfig) -> tuple[str, int]:
        import httpx

        body: dict = {"model": self.endpoint_model, "max_tokens": gen.max_new_tokens,
                      "temperature": gen.temperature, "seed": gen.seed}
        if gen.do_sample:
            body["top_p"] = gen.top_p
        if gen.chat_template:
            route, body["messages"] = "/chat/completions", [{"role": "user", "content": prompt}]
        else:
            route, body["prompt"] = "/completions", prompt
        delay, last = self.backoff, ""
        for attempt in range(self.retries + 1):
            try:
                r = self._client.post(route, json=body)
                if r.status_code == 429 or r.status_code >= 500:
                    last = f"HTTP {r.status_code}"
                elif r.status_code >= 400:
                    raise GenerationError(f"model {self.model_id!r}: endpoint refused the request "
                                          f"(HTTP {r.status_code}: {r.text[:120]})",
                                          hint="check endpoint_model, the URL and the API key")
                else:
                    data = r.json()
                    ch = data["choices"][0]
                    text = ch["message"]["content"] if gen.chat_template else ch["text"]
                    n = int((data.get("usage") or {}).get("completion_tokens") or 0)
                    return (text or "").strip(), n
            except httpx.HTTPError as e:
                last = type(e).__name__
            except (KeyError, IndexError, TypeError, ValueError):
                raise GenerationError(f"model {self.model_id!r}: endpoint answered in an unexpected format",
                                      hint="the endpoint must be OpenAI-compatible (/v1/chat/completions)") from None
            if attempt < self.retries:
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
        raise GenerationError(f"model {self.model_id!r}: endpoint {redact_url(self.endpoint)} failed after "
                              f"{self.retries + 1} tries ({last})", hint="check that the server is up")

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
