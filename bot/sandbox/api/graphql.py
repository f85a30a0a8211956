"""GitHub's GraphQL endpoint, as far as the App asks it: `user(login:)` with `login`, `createdAt` and
`contributionsCollection(from:, to:) { contributionCalendar { totalContributions } restrictedContributionsCount }`,
any number of them under aliases in one query, their logins as variables. Answers have GitHub's shape
(https://docs.github.com/en/graphql/guides/forming-calls-with-graphql): 200 with `data` (a user GitHub does
not know is `null`, with a `NOT_FOUND` error naming its path), or 200 with `errors` only when the query
itself is wrong (a field the type does not have, a variable not given). Anything else is refused as a
sandbox limitation, never guessed at."""
from __future__ import annotations

import re
from typing import Any

from .. import render
from ..state.errors import Rejected
from .call import Call, Reply

_TOKEN = re.compile(r'\s*(?:(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<var>\$[_A-Za-z][_0-9A-Za-z]*)|'
                    r'(?P<string>"(?:[^"\\]|\\.)*")|(?P<number>-?\d+)|(?P<punct>[!(){}:,=\[\]]))')
USER_FIELDS = {"login", "createdAt", "contributionsCollection"}
COLLECTION_FIELDS = {"contributionCalendar", "restrictedContributionsCount"}


class QueryError(Exception):
    """The query is not one GitHub would run: answered as GraphQL's own `errors`."""


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    text = re.sub(r"#[^\n]*", "", text)
    while at < len(text.rstrip()):
        match = _TOKEN.match(text, at)
        if match is None:
            raise QueryError(f"Parse error on {text[at:at + 10]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens, self.at = _tokens(text), 0

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def take(self, wanted: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens) or (wanted is not None and self.tokens[self.at][1] != wanted):
            raise QueryError(f"Parse error: expected {wanted or 'more'} at {self.peek()!r}")
        self.at += 1
        return self.tokens[self.at - 1]

    def document(self) -> list[dict]:
        if self.peek() == "query":
            self.take()
            if self.tokens[self.at][0] == "name":
                self.take()
            if self.peek() == "(":  # variable definitions: ($l0: String!, ...)
                while self.take()[1] != ")":
                    pass
        selections = self.selections()
        if self.at != len(self.tokens):
            raise QueryError("Parse error: only one operation is supported by the sandbox")
        return selections

    def selections(self) -> list[dict]:
        self.take("{")
        out = []
        while self.peek() != "}":
            name = self.take()[1]
            alias = None
            if self.peek() == ":":
                self.take()
                alias, name = name, self.take()[1]
            args: dict[str, tuple[str, str]] = {}
            if self.peek() == "(":
                self.take()
                while self.peek() != ")":
                    key = self.take()[1]
                    self.take(":")
                    args[key] = self.take()
                    if self.peek() == ",":
                        self.take()
                self.take(")")
            children = self.selections() if self.peek() == "{" else []
            out.append({"alias": alias or name, "name": name, "args": args, "children": children})
            if self.peek() == ",":
                self.take()
        self.take("}")
        return out


def _value(token: tuple[str, str], variables: dict[str, Any]) -> Any:
    kind, text = token
    if kind == "var":
        if text[1:] not in variables:
            raise QueryError(f"Variable ${text[1:]} is used but not given")
        return variables[text[1:]]
    if kind == "string":
        return text[1:-1].encode().decode("unicode_escape")
    return int(text) if kind == "number" else text


def _resolve_user(call: Call, field: dict, variables: dict[str, Any], errors: list[dict]) -> Any:
    login = str(_value(field["args"].get("login", ("string", '""')), variables))
    account = call.sandbox.known_account(login)
    if account is None or account.type == "Organization":
        errors.append({"type": "NOT_FOUND", "path": [field["alias"]], "locations": [{"line": 1, "column": 1}],
                       "message": f"Could not resolve to a User with the login of '{login}'."})
        return None
    out: dict[str, Any] = {}
    for child in field["children"]:
        if child["name"] not in USER_FIELDS:
            raise QueryError(f"Field '{child['name']}' doesn't exist on type 'User'")
        if child["name"] == "login":
            out[child["alias"]] = account.login
        elif child["name"] == "createdAt":
            out[child["alias"]] = render.iso(account.created_at) or "2011-01-25T18:44:36Z"
        else:
            collection: dict[str, Any] = {}
            for part in child["children"]:
                if part["name"] not in COLLECTION_FIELDS:
                    raise QueryError(f"Field '{part['name']}' doesn't exist on type 'ContributionsCollection'")
                if part["name"] == "restrictedContributionsCount":
                    collection[part["alias"]] = account.restricted
                else:
                    collection[part["alias"]] = {c["alias"]: account.contributions + account.restricted
                                                 for c in part["children"] if c["name"] == "totalContributions"}
            out[child["alias"]] = collection
    return out


def graphql_query(call: Call) -> Reply:
    """:calls: POST /graphql (the users the App asks about; see the module's docstring)"""
    body = call.body if isinstance(call.body, dict) else {}
    query, variables = body.get("query"), body.get("variables") or {}
    if not isinstance(query, str) or not isinstance(variables, dict):
        raise Rejected(400, "Problems parsing JSON", reason="a GraphQL request is {query, variables}")
    try:
        fields = _Parser(query).document()
        errors: list[dict] = []
        data = {}
        for field in fields:
            if field["name"] != "user":
                raise Rejected(422, "Unprocessable", reason=f"the sandbox answers only `user(login:)`, not "
                                                              f"`{field['name']}`")
            data[field["alias"]] = _resolve_user(call, field, variables, errors)
    except QueryError as err:
        return Reply(200, {"errors": [{"message": str(err), "locations": [{"line": 1, "column": 1}]}]})
    return Reply(200, {"data": data, **({"errors": errors} if errors else {})})
