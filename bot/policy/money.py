"""Amounts of money shown the same way everywhere (reading them is `bot.forms.parse_amount`)."""
from __future__ import annotations

from decimal import Decimal


def format_amount(amount: Decimal, currency: str = "USD") -> str:
    """`50,000 USD`; cents only when there are some."""
    whole = amount == amount.to_integral_value()
    return f"{amount:,.0f} {currency}" if whole else f"{amount:,.2f} {currency}"
