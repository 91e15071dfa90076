"""Talk to an OpenAI-compatible chat-completions server: the prompt, and a client whose
failures are messages that say what to do.

Any server that speaks the protocol works: Ollama, vLLM, llama.cpp's server, hosted APIs.
The prompt numbers the retrieved passages and asks for short sentences, each ending with the
[n] of the passage that supports it, or a plain refusal. What comes back is not trusted:
qa/answer/verify.py checks every sentence before anyone sees it. The API key is read from the
environment variable that a setting names; it never appears in a message or a repr.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from qa.config import Settings
from qa.documents import ABSTAIN_MESSAGE, Document, Hit
from qa.errors import (
    LLMAuthFailed,
    LLMBadReply,
    LLMError,
    LLMModelNotFound,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
)
from qa.references import pages

REFUSAL = ABSTAIN_MESSAGE

SYSTEM_PROMPT = f"""You answer a question using only the numbered passages that the user gives.
Rules:
1. Write a short answer: one to four short sentences, in the language of the question.
2. End every sentence with the number of the passage that supports it, in square brackets, \
like this: The plan was approved in 2021 [2].
3. Say only what that passage says. Copy names, numbers and dates exactly as the passage \
writes them. Add nothing from memory.
4. If the passages do not answer the question, reply only: {REFUSAL}"""

CONNECT_TIMEOUT = 5.0  # seconds to reach the server; the rest of QA_LLM_TIMEOUT is for the reply


def build_messages(
    question: str, hits: Sequence[Hit], documents: dict[str, Document]
) -> list[dict[str, str]]:
    """The chat messages: rules as the system message; the passages numbered [1]..[n] (in
    the order of `hits`) with title, date and page, then the question."""
    blocks = []
    for n, hit in enumerate(hits, start=1):
        p = hit.passage
        doc = documents.get(p.doc_id)
        title = doc.meta.title if doc else p.doc_id
        where = [x for x in ((doc.meta.date if doc else None),) if x]
        if page := pages(p.page_start, p.page_end):  # a web page has none
            where.append(page)
        blocks.append(f"[{n}] {title} ({', '.join(where)})\n{' '.join(p.text.split())}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


class LLMClient:
    """One OpenAI-compatible server and model. `stream()` yields text as it is written;
    `complete()` returns the whole reply. Both give up after `timeout` seconds in all."""

    def __init__(
        self,
        base_url: str,
        model: str | None,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60.0,
        max_tokens: int = 400,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.timeout = timeout
        self.max_tokens = max_tokens
        self._environ = os.environ if environ is None else environ
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMClient:
        return cls(
            settings.llm_base_url,
            settings.llm_model,
            api_key_env=settings.llm_api_key_env,
            timeout=settings.llm_timeout,
            max_tokens=settings.llm_max_tokens,
        )

    def __repr__(self) -> str:  # no key here, ever
        return f"LLMClient(base_url={self.base_url!r}, model={self.model!r})"

    def _openai(self):
        if not self.model:
            raise LLMModelNotFound(
                "No language model is set. Set QA_LLM_MODEL to a model your server serves "
                "(e.g. llama3.2 for Ollama; `ollama list` shows them)."
            )
        if self._client is None:
            try:
                import httpx
                import openai
            except ImportError:
                raise LLMError(
                    "The llm answerer needs the openai package: `pip install openai`."
                ) from None
            self._client = openai.OpenAI(
                base_url=self.base_url,
                # local servers need no key, but the library insists on one
                api_key=self._environ.get(self.api_key_env) or "no-key",
                timeout=httpx.Timeout(self.timeout, connect=min(CONNECT_TIMEOUT, self.timeout)),
                max_retries=0,  # a retry would double the wait; the user gets the answer now
            )
        return self._client

    def _request(self, messages: list[dict[str, str]], stream: bool):
        return self._openai().chat.completions.create(
            model=self.model,
            messages=messages,
            temperature=0.0,
            max_tokens=self.max_tokens,
            stream=stream,
        )

    def complete(self, messages: list[dict[str, str]]) -> str:
        try:
            reply = self._request(messages, stream=False)
            choices = getattr(reply, "choices", None)
            if not choices:
                raise LLMBadReply(f"The server at {self.base_url} sent a reply with no answer.")
            return choices[0].message.content or ""
        except LLMError:
            raise
        except Exception as exc:
            raise self._translate(exc) from None

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Text pieces as the model writes them. The whole reply must arrive within the
        timeout, however slowly the server trickles it."""
        deadline = time.monotonic() + self.timeout
        try:
            with self._request(messages, stream=True) as chunks:
                for chunk in chunks:
                    if time.monotonic() > deadline:
                        raise self._timed_out()
                    for choice in getattr(chunk, "choices", None) or ():
                        text = getattr(choice.delta, "content", None)
                        if text:
                            yield text
        except LLMError:
            raise
        except Exception as exc:
            raise self._translate(exc) from None

    def _timed_out(self) -> LLMTimeout:
        return LLMTimeout(
            f"The language model server at {self.base_url} did not finish its answer within "
            f"{self.timeout:g} s. Try again, use a smaller model, or raise QA_LLM_TIMEOUT."
        )

    def _translate(self, exc: Exception) -> LLMError:
        """The library's exception as a message the user can act on (the key scrubbed)."""
        import openai

        url = self.base_url
        detail = self._scrub(_server_message(exc))
        if isinstance(exc, openai.APITimeoutError):
            return self._timed_out()
        if isinstance(exc, openai.APIConnectionError):
            if "Connect" not in type(exc.__cause__).__name__:  # it answered, then stopped
                return LLMUnavailable(
                    f"The language model server at {url} broke off its reply "
                    f"({type(exc.__cause__).__name__}); it may have crashed or run out of "
                    "memory. See the server's log, then ask again."
                )
            return LLMUnavailable(
                f"No language model server answers at {url}. Start it (e.g. `ollama serve`) "
                "or set QA_LLM_BASE_URL to its address."
            )
        if isinstance(exc, openai.NotFoundError):
            return LLMModelNotFound(
                f"The server at {url} does not know the model {self.model!r}{detail}. Set "
                "QA_LLM_MODEL to a model it serves (`ollama list` shows Ollama's), and check "
                "that QA_LLM_BASE_URL is its OpenAI-compatible address (often ending in /v1)."
            )
        if isinstance(exc, openai.RateLimitError):
            return LLMRateLimited(
                f"The server at {url} refuses more requests for now: rate limit or quota "
                f"(HTTP 429){detail}. Wait a moment and ask again, or check your plan."
            )
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return LLMAuthFailed(  # the server's own text may quote the key: left out
                f"The server at {url} refused the API key (HTTP {exc.status_code}). Put a valid "
                f"key in the environment variable {self.api_key_env} (QA_LLM_API_KEY_ENV "
                "names the variable)."
            )
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return LLMUnavailable(
                    f"The language model server at {url} failed (HTTP {exc.status_code})"
                    f"{detail}. See the server's log, or try again."
                )
            return LLMBadReply(
                f"The server at {url} refused the request (HTTP {exc.status_code}){detail}."
            )
        return LLMBadReply(
            f"The reply from {url} could not be read ({type(exc).__name__}{detail})."
        )

    def _scrub(self, text: str) -> str:
        key = self._environ.get(self.api_key_env)
        return text.replace(key, "***") if key and len(key) >= 4 else text


def _server_message(exc: Exception) -> str:
    """The server's own explanation, shortened: ': model "x" not found'."""
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
    if not message:
        message = getattr(exc, "message", None) or str(exc)
    message = " ".join(str(message).split())[:200]
    return f": {message}" if message else ""
