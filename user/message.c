// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The empty HTTP part of messages of other protocols (message.h). */
#include "message.h"

const struct http_part http_part_none;
