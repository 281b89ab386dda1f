/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The grammars the formatter tests and fuzzers hold records to, as POSIX
 * extended regular expressions: RFC 5424 (PRI VERSION TIMESTAMP HOSTNAME
 * APP-NAME PROCID MSGID STRUCTURED-DATA [MSG], PARAM-VALUE with '"', '\'
 * and ']' escaped) and CEF (seven '|'-separated header fields with '|' and
 * '\' escaped, then key=value extensions with '=' and '\' escaped).
 */
#ifndef SOCKAUDIT_TEST_FORMAT_GRAMMAR_H
#define SOCKAUDIT_TEST_FORMAT_GRAMMAR_H

#define SYSLOG_RE "^<[0-9]{1,3}>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\\.[0-9]{1,6})?Z " \
	"[!-~]{1,255} [!-~]{1,48} [!-~]{1,128} [!-~]{1,32} " \
	"(-|(\\[[!#-<>-\\\\^-~]{1,32}( [!#-<>-\\\\^-~]{1,32}=\"([^]\"\\\\]|\\\\[]\"\\\\])*\")*\\])+)" \
	"( [^\n]*)?\n$"
#define CEF_RE "^CEF:0(\\|([^|\\\\]|\\\\[|\\\\])*){6}\\|" \
	"([A-Za-z0-9_]+=([^=\\\\\n]|\\\\[=\\\\nr])*)( [A-Za-z0-9_]+=([^=\\\\\n]|\\\\[=\\\\nr])*)*\n$"

#endif /* SOCKAUDIT_TEST_FORMAT_GRAMMAR_H */
