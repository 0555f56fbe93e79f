"""What LLM calls cost: a price table (USD per million input and output tokens, per provider and model)
read from a JSON data file, so prices change without code. Unknown models cost None, not 0."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol

DEFAULT_PRICE_FILE = Path(__file__).with_name("prices.json")
_MILLION = Decimal(1_000_000)


class PriceFileError(Exception):
    """The price file cannot be used; the message names the file and, for a syntax error, the line."""


@dataclass(frozen=True)
class Price:
    input: Decimal  # USD per million input tokens
    output: Decimal  # USD per million output tokens


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, dict[str, Price]]  # provider -> model -> price

    @classmethod
    def load(cls, path: str | Path) -> PriceTable:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PriceFileError(f"{path}: cannot read the price file ({exc.strerror})") from exc
        try:
            # Decimal, not float: a price of 0.1 must cost exactly 0.1 per million tokens.
            raw = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise PriceFileError(f"{path}, line {exc.lineno}: {exc.msg}") from exc
        return cls.parse(raw, source=str(path), text=text)

    @classmethod
    def parse(cls, raw: object, *, source: str, text: str = "") -> PriceTable:
        if not isinstance(raw, dict):
            raise PriceFileError(f"{source}: expected an object of providers")
        prices: dict[str, dict[str, Price]] = {}
        for provider, models in raw.items():
            if not isinstance(models, dict):
                raise PriceFileError(
                    f"{source}, line {_line_of(text, provider)}: {provider!r} must map models to prices"
                )
            prices[provider] = {}
            for model, price in models.items():
                where = f"{source}, line {_line_of(text, model)}"
                if not isinstance(price, dict) or set(price) != {"input", "output"}:
                    raise PriceFileError(f'{where}: {provider}/{model} needs exactly "input" and "output"')
                values = [price["input"], price["output"]]
                if not all(
                    isinstance(v, Decimal | int) and not isinstance(v, bool) and v >= 0 for v in values
                ):
                    raise PriceFileError(f"{where}: {provider}/{model} prices must be numbers >= 0")
                prices[provider][model] = Price(Decimal(values[0]), Decimal(values[1]))
        return cls(prices)

    def price_for(self, provider: str | None, model: str | None) -> Price | None:
        """The price of `model` at `provider`, or at the first provider listing it when none is named; a
        model reference (`groq/llama-3.3-70b-versatile`) names its provider by its connection's slug."""
        if not model:
            return None
        if provider:
            return self.prices.get(provider, {}).get(model)
        listed = next((models[model] for models in self.prices.values() if model in models), None)
        if listed is None and "/" in model:
            slug, _, model_id = model.partition("/")
            return self.prices.get(slug, {}).get(model_id)
        return listed

    def cost(
        self, provider: str | None, model: str | None, input_tokens: int | None, output_tokens: int | None
    ) -> Decimal | None:
        price = self.price_for(provider, model)
        if price is None:
            return None
        total = (input_tokens or 0) * price.input + (output_tokens or 0) * price.output
        return (total / _MILLION).quantize(Decimal("0.000001"))


def _line_of(text: str, key: str) -> int:
    """The line where `"key"` first appears, for messages about values that parse but make no sense."""
    index = text.find(json.dumps(key))
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


class Budget(Protocol):
    """A spending limit beyond the run (a user's daily budget). The executor asks before every model call,
    from its coordinating thread, and releases the reservation once the call has ended."""

    def reserve(
        self, *, node_id: str, model: str | None, input_tokens: int, output_tokens: int
    ) -> str | None:
        """Hold room for a call that may use up to these tokens; a message saying why not, or None."""
        ...

    def release(self, *, node_id: str) -> None:
        """The call ended; its actual usage is in its recorded result."""
        ...
