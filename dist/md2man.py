#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""docs/operations.md as the man page sockaudit(8), in roff (man macros).

Covers the Markdown that file uses: headings, paragraphs, fenced code,
bullet lists, tables, `code`, **bold**, [links](...). Written for that file,
not for Markdown at large: `make man` and the install test check the output
with groff's warnings on.
"""
import re
import sys


def esc(text):
    """Roff-safe text: backslashes, and a leading dot or quote."""
    text = text.replace("\\", "\\e")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def inline(text):
    text = esc(text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    return text.replace("-", "\\-")


def table_row(line):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    return "\t".join(inline(c) for c in cells)


def convert(lines):
    out = ['.\\" -*- coding: utf-8 -*-', '.TH SOCKAUDIT 8 "" "sockaudit" "System Administration"',
           ".SH NAME", "sockaudit \\- audit collector for application traffic (eBPF)"]
    in_code = False
    in_table = False
    for raw in lines:
        line = raw.rstrip("\n")
        if line.startswith("```"):
            out.append(".fi\n.RE" if in_code else ".RS 4\n.nf")
            in_code = not in_code
            continue
        if in_code:
            out.append(esc(line) if line else "")
            continue
        if in_table and not line.startswith("|"):
            out.append(".TE")
            in_table = False
        if line.startswith("|"):
            if re.match(r"^\|[\s:|-]+\|$", line):
                continue
            if not in_table:
                ncols = line.strip().strip("|").count("|") + 1
                out.append(".TS\nallbox tab(\t);\n" + " ".join(["l"] * ncols) + ".")
                in_table = True
            out.append(table_row(line))
            continue
        m = re.match(r"^(#+)\s+(.*)", line)
        if m:
            level, title = len(m.group(1)), m.group(2)
            if level == 1:
                continue  # the page's own title: .TH above
            title = inline(title).replace('"', "")
            out.append('.SH "%s"' % title.upper() if level == 2 else '.SS "%s"' % title)
            continue
        if re.match(r"^\s*[-*]\s+", line):
            out.append(".IP \\(bu 2\n" + inline(re.sub(r"^\s*[-*]\s+", "", line)))
            continue
        if not line.strip():
            out.append(".PP")
            continue
        out.append(inline(line.strip()))
    if in_table:
        out.append(".TE")
    return "\n".join(out) + "\n"


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(convert(f.readlines()))


if __name__ == "__main__":
    main()
