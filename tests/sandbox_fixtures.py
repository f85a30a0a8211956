"""Placeholder: replaced by the sandbox fixtures."""
