/*
 * firmware/app/cmd.h — what the console commands (cmd_*.c) share (cmd_common.c): the console's
 * side of the core's notices, and helpers for reading and answering at the console. Commands call
 * the core (core.h) and these, never each other or the HTTP endpoints.
 */
#ifndef APP_CMD_H
#define APP_CMD_H

#include "core.h"

/* The core's notices on the console (app_set_notice's fn; ctx is the console). */
void cmd_notice(void *ctx, enum app_note kind, const char *text);

#endif
