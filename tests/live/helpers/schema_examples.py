#!/usr/bin/env python3
"""Keep docs/record-schema.md honest against records the collector wrote.

usage: schema_examples.py DOC LOG...

Every fenced block of DOC that is not a shell recipe (first line "$ ...")
must parse as one or more JSON objects. Every member path of an example
record (proc.pid, rpc.error.code, redactions[]), with its JSON type, must occur in some real
record of the same type in the LOGs (JSON Lines, .gz allowed); an example
without "type" is an excerpt of members, each of which must end some real
path (body_bytes matches request.body_bytes).
Prints one line per problem and exits 1 if there is any.
"""
import gzip
import json
import sys


def blocks(text):
    """(line number, body) of each fenced block."""
    out, body, start = [], None, 0
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if body is None:
                body, start = [], n
            else:
                out.append((start, "\n".join(body)))
                body = None
        elif body is not None:
            body.append(line)
    return out


def values(body):
    """The JSON values of a block, one after the other."""
    dec, i, vals = json.JSONDecoder(), 0, []
    while True:
        while i < len(body) and body[i].isspace():
            i += 1
        if i == len(body):
            return vals
        v, i = dec.raw_decode(body, i)
        vals.append(v)


def kind(x):
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, (int, float)):
        return "number"
    return {dict: "object", list: "array", str: "string"}.get(type(x), "null")


def paths(v, prefix=""):
    """Member paths of a record with their JSON types: a.b:number, a[]:string."""
    out = set()
    if isinstance(v, dict):
        for k, x in v.items():
            p = prefix + "." + k if prefix else k
            out.add(p + ":" + kind(x))
            out |= paths(x, p)
    elif isinstance(v, list):
        for x in v:
            out.add(prefix + "[]:" + kind(x))
            out |= paths(x, prefix + "[]")
    return out


def real_paths(logs):
    by_type = {}
    for name in logs:
        opener = gzip.open if name.endswith(".gz") else open
        with opener(name, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                rec = json.loads(line)
                by_type.setdefault(rec.get("type"), set()).update(paths(rec))
    return by_type


def excerpt_problems(where, ex, real):
    every = set().union(*real.values()) if real else set()
    return [f"{where}: excerpt has {p}, which ends no member path of a real record"
            for p in sorted(paths(ex))
            if not any(r == p or r.endswith("." + p) for r in every)]


def main():
    doc, logs = sys.argv[1], sys.argv[2:]
    real = real_paths(logs)
    problems, checked = [], 0
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    for line, body in blocks(text):
        if body.lstrip().startswith("$"):
            continue  # a jq recipe and its output
        try:
            examples = values(body)
        except ValueError as e:
            problems.append(f"{doc}:{line}: example does not parse: {e}")
            continue
        for ex in examples:
            if not isinstance(ex, dict):
                problems.append(f"{doc}:{line}: example is not a JSON object")
                continue
            checked += 1
            if "type" not in ex:
                problems += excerpt_problems(f"{doc}:{line}", ex, real)
                continue
            have = real.get(ex["type"])
            if have is None:
                problems.append(f"{doc}:{line}: no real record of type {ex['type']} to check against")
                continue
            for p in sorted(paths(ex) - have):
                problems.append(f"{doc}:{line}: {ex['type']} example has {p}, "
                                "which no real record of that type has")
    for p in problems:
        print(p)
    print(f"schema_examples: {checked} examples checked, {len(problems)} problems")
    return 1 if problems or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
