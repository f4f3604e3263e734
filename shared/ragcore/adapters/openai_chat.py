"""ChatModel over any OpenAI-compatible API (OpenAI, Azure, vLLM, Ollama…), with retries and clear failures."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import openai
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from ragcore.errors import ProviderError
from ragcore.ports import ChatUsage, ToolCall, ToolTurn

PASSED_OPTIONS = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens", "stop")
T = TypeVar("T")
RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


def describe(exc: Exception) -> str:
    """A readable reason that never includes the API key."""
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    return f"{status} {name}" if status else name


class OpenAIChatModel:
    def __init__(self, model: str, base_url: str, api_key: str, timeout: float = 60, *, attempts: int = 3, backoff_s: float = 0.5) -> None:
        self.model_name = model
        self._client = OpenAI(base_url=base_url, api_key=api_key or "none", timeout=timeout, max_retries=0)
        self._attempts = attempts
        self._backoff = backoff_s

    def _options(self, options: dict[str, Any]) -> dict[str, Any]:
        return {k: options[k] for k in PASSED_OPTIONS if options.get(k) is not None}

    def _retried(self, call: Callable[[], T]) -> T:
        """One request, retried on timeouts, connection errors, 429 and 5xx with backoff; a refusal is final."""
        last: Exception | None = None
        for attempt in range(self._attempts):
            try:
                return call()
            except RETRYABLE as exc:
                last = exc
                time.sleep(self._backoff * 2**attempt)
            except openai.APIError as exc:
                raise ProviderError(f"The chat model refused the request: {describe(exc)}") from exc
        raise ProviderError(f"The chat model failed after {self._attempts} attempts: {describe(last or Exception())}")

    def complete(self, messages: list[dict[str, str]], **options: Any) -> tuple[str, ChatUsage]:
        def call() -> tuple[str, ChatUsage]:
            reply = self._client.chat.completions.create(model=self.model_name, messages=messages,  # type: ignore[arg-type]
                                                         **self._options(options))
            usage = reply.usage
            return reply.choices[0].message.content or "", {
                "prompt_tokens": usage.prompt_tokens if usage else 0,
                "completion_tokens": usage.completion_tokens if usage else 0,
                "total_tokens": usage.total_tokens if usage else 0,
            }

        return self._retried(call)

    def complete_with_tools(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], **options: Any) -> ToolTurn:
        def call() -> ToolTurn:
            reply = self._client.chat.completions.create(model=self.model_name, messages=messages,  # type: ignore[arg-type]
                                                         tools=tools, **self._options(options))  # type: ignore[arg-type]
            message = reply.choices[0].message
            # function calls only (a "custom" tool call is not one we offered)
            calls = tuple(ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments or "{}")
                          for c in message.tool_calls or [] if isinstance(c, ChatCompletionMessageFunctionToolCall))
            return ToolTurn(text=message.content or "", calls=calls)

        return self._retried(call)

    def stream(self, messages: list[dict[str, str]], **options: Any) -> Iterator[str]:
        last: Exception | None = None
        for attempt in range(self._attempts):
            started = False
            try:
                chunks = self._client.chat.completions.create(model=self.model_name, messages=messages,  # type: ignore[arg-type]
                                                              stream=True, **self._options(options))
                for chunk in chunks:
                    choices: Any = getattr(chunk, "choices", None)
                    if choices and choices[0].delta and choices[0].delta.content:
                        started = True
                        yield str(choices[0].delta.content)
                return
            except RETRYABLE as exc:
                if started:  # half an answer was already sent: retrying would repeat it
                    raise ProviderError(f"The chat model stream broke: {describe(exc)}") from exc
                last = exc
                time.sleep(self._backoff * 2**attempt)
            except openai.APIError as exc:
                raise ProviderError(f"The chat model refused the request: {describe(exc)}") from exc
        raise ProviderError(f"The chat model failed after {self._attempts} attempts: {describe(last or Exception())}")
