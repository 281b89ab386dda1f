/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Diagnostics on stderr: one line each, prefixed "sockaudit: ". */
#ifndef SOCKAUDIT_LOG_H
#define SOCKAUDIT_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int log_verbosity;	/* messages above this level are not printed */

__attribute__((format(printf, 2, 3))) void log_msg(enum log_level lvl, const char *fmt, ...);

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* SOCKAUDIT_LOG_H */
