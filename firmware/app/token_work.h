/*
 * firmware/app/token_work.h — the appliance's own token work as token jobs (token_work.c).
 */
#ifndef TOKEN_WORK_H
#define TOKEN_WORK_H

#include <stdbool.h>
#include <stdint.h>

struct app;

/* From now on the console hands its commands (all but the quick ones) to the token task; the
 * console task receives done_sig when one is done (and calls console_work_done). */
void app_console_runner_start(struct app *app, uint16_t done_sig);

/* Have the state read from the token again (a token job; at most one queued). NULL, or why the
 * last attempt failed. */
const char *app_state_reload(struct app *app);

/* Whether the token link is up; when it is down, a probe (a token job) tries it again, at most
 * every APP_RELINK_MS, backing off to APP_RELINK_MAX_MS while it stays down. Never waits. */
bool app_link_up(struct app *app);

#endif
