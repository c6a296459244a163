/* The one place a board enters the firmware (hal/board.h): after its own init it calls this. */
#include "app.h"

static struct app the_app;

void signet_main(void)
{
    app_main(&the_app);
}
