/*
 * firmware/app/cmd_common.c — what the console commands share (cmd.h).
 */
#include "cmd.h"

void cmd_notice(void *ctx, enum app_note kind, const char *text)
{
    struct console *con = ctx;

    switch (kind) {
    case APP_NOTE_ERROR:
        console_error(con, "%s", text);
        break;
    case APP_NOTE_UNASKED_BEGIN:
        console_puts(con, "\n");
        break;
    case APP_NOTE_UNASKED_END:
        console_prompt(con);
        break;
    default:
        console_puts(con, text);
        console_puts(con, "\n");
        break;
    }
}
