#!/usr/bin/env python3
"""Check the five logs of one run against their formats' grammars.

usage: check_formats.py JSONL CEF SYSLOG LINE CSV SECRET MARK

Each file must be well-formed line by line for its format, hold the same
number of exchange records as the others, never contain SECRET, and
contain the redaction MARK. Prints the exchange count; exits 1 with a
one-line reason on the first problem.
"""
import csv
import json
import re
import sys

CEF_HEADER = re.compile(r'^CEF:0((?:\|(?:[^|\\\n]|\\[|\\])*){6})\|(.*)$')
CEF_EXT = re.compile(r'^[A-Za-z0-9_]+=(?:[^=\\\n]|\\[=\\nr])*'
                     r'(?: [A-Za-z0-9_]+=(?:[^=\\\n]|\\[=\\nr])*)*$')
SD_NAME = r'[!#-<>-\\^-~]{1,32}'  # printable US-ASCII but '=', ' ', ']', '"'
SD_PARAM = SD_NAME + r'="(?:[^"\\\]]|\\["\\\]])*"'
SD_ELEMENT = r'\[' + SD_NAME + r'(?: ' + SD_PARAM + r')*\]'
RFC5424 = re.compile(
    r'^<(\d{1,3})>1 '
    r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)) '
    r'([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) '
    r'(-|(?:' + SD_ELEMENT + r')+)(?: (.*))?$')
LINE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (exchange|"[a-z_]+") seq=\d+ ')
FORMULA = ('=', '+', '-', '@', '\t', '\r')


def fail(why):
    print(why, file=sys.stderr)
    sys.exit(1)


def lines_of(path):
    with open(path, 'rb') as f:
        data = f.read()
    if b'\r' in data:
        fail(f'{path}: a raw CR')
    if not data.endswith(b'\n'):
        fail(f'{path}: the last line has no newline')
    return data.decode('utf-8').split('\n')[:-1]


def check_jsonl(path):
    n = 0
    for i, line in enumerate(lines_of(path), 1):
        try:
            rec = json.loads(line)
        except ValueError as e:
            fail(f'{path}:{i}: not JSON: {e}')
        n += rec.get('type') == 'exchange'
    return n


def check_cef(path):
    n = 0
    for i, line in enumerate(lines_of(path), 1):
        m = CEF_HEADER.match(line)
        if not m or not CEF_EXT.match(m.group(2)):
            fail(f'{path}:{i}: not CEF: {line[:120]}')
        n += m.group(1).split('|')[4] == 'exchange'
    return n


def check_syslog(path):
    n = 0
    for i, line in enumerate(lines_of(path), 1):
        m = RFC5424.match(line)
        if not m or int(m.group(1)) > 191:
            fail(f'{path}:{i}: not RFC 5424: {line[:120]}')
        n += m.group(6) == 'exchange'
    return n


def check_line(path):
    n = 0
    for i, line in enumerate(lines_of(path), 1):
        m = LINE.match(line)
        if not m:
            fail(f'{path}:{i}: not a line record: {line[:120]}')
        n += m.group(1) == 'exchange'
    return n


def check_csv(path):
    lines_of(path)  # no raw CR, ends in a newline
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    header = rows[0]
    if header[:3] != ['seq', 'ts', 'type'] or header[-1] != 'chain':
        fail(f'{path}:1: not the csv header: {header}')
    n = 0
    for i, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            fail(f'{path}:{i}: {len(row)} columns, the header has {len(header)}')
        for cell in row:
            if cell.startswith(FORMULA) and not re.fullmatch(r'-?\d+(\.\d+)?', cell):
                fail(f'{path}:{i}: a cell a spreadsheet would run: {cell[:60]}')
        n += row[2] == 'exchange'
    return n


def main():
    jsonl, cef, syslog, line, csvp, secret, mark = sys.argv[1:8]
    counts = {
        'json_lines': check_jsonl(jsonl), 'cef': check_cef(cef),
        'syslog': check_syslog(syslog), 'line': check_line(line), 'csv': check_csv(csvp),
    }
    if len(set(counts.values())) != 1:
        fail(f'exchange counts differ: {counts}')
    for path in (jsonl, cef, syslog, line, csvp):
        with open(path, encoding='utf-8') as f:
            text = f.read()
        if secret in text:
            fail(f'{path}: the secret {secret} is in the log')
        if mark not in text:
            fail(f'{path}: no {mark}: the custom rule did not apply')
    print(counts['json_lines'])


main()
