/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef SOCKAUDIT_VERSION_H
#define SOCKAUDIT_VERSION_H
#define SOCKAUDIT_VERSION "0.1.0"
#endif
