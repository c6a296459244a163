#include "lib/jsonw.h"

#include <string.h>

#include "unit.h"

TEST(nested_objects_and_types)
{
    char buf[256];
    struct jsonw w;

    jsonw_init(&w, buf, sizeof(buf));
    jsonw_object_begin(&w, NULL);
    jsonw_string(&w, "role", "root");
    jsonw_object_begin(&w, "token");
    jsonw_bool(&w, "up", true);
    jsonw_uint(&w, "connects", 0);
    jsonw_object_end(&w);
    jsonw_uint(&w, "uptime", 18446744073709551615u);
    jsonw_object_end(&w);
    CHECK(jsonw_finish(&w) > 0);
    CHECK_STR(buf, "{\"role\":\"root\",\"token\":{\"up\":true,\"connects\":0},"
                   "\"uptime\":18446744073709551615}");
}

TEST(strings_are_escaped)
{
    char buf[128];
    struct jsonw w;

    jsonw_init(&w, buf, sizeof(buf));
    jsonw_object_begin(&w, NULL);
    jsonw_string(&w, "n\"k", "a\\b\"c\n\x01\x7f");
    jsonw_object_end(&w);
    CHECK(jsonw_finish(&w) > 0);
    CHECK_STR(buf, "{\"n\\\"k\":\"a\\\\b\\\"c\\u000a\\u0001\\u007f\"}");
}

TEST(overflow_is_sticky_at_every_size)
{
    char full[128], buf[128];
    struct jsonw w;

    jsonw_init(&w, full, sizeof(full));
    jsonw_object_begin(&w, NULL);
    jsonw_string(&w, "name", "signet");
    jsonw_uint(&w, "n", 12345);
    jsonw_object_end(&w);
    int n = jsonw_finish(&w);
    CHECK(n > 0);
    /* Every buffer too small by at least one byte fails as a whole, and never writes past cap. */
    for (size_t cap = 0; cap <= (size_t)n; cap++) {
        memset(buf, 'x', sizeof(buf));
        jsonw_init(&w, buf, cap);
        jsonw_object_begin(&w, NULL);
        jsonw_string(&w, "name", "signet");
        jsonw_uint(&w, "n", 12345);
        jsonw_object_end(&w);
        CHECK_EQ(jsonw_finish(&w), -1);
        CHECK(buf[cap] == 'x');
    }
}

TEST(unbalanced_is_refused)
{
    char buf[64];
    struct jsonw w;

    jsonw_init(&w, buf, sizeof(buf));
    jsonw_object_begin(&w, NULL);
    CHECK_EQ(jsonw_finish(&w), -1);
    jsonw_init(&w, buf, sizeof(buf));
    jsonw_object_end(&w);
    CHECK_EQ(jsonw_finish(&w), -1);
    jsonw_init(&w, buf, sizeof(buf));
    for (int i = 0; i < JSONW_DEPTH + 1; i++)
        jsonw_object_begin(&w, NULL);
    CHECK_EQ(jsonw_finish(&w), -1);
}

int main(void)
{
    RUN(nested_objects_and_types);
    RUN(strings_are_escaped);
    RUN(overflow_is_sticky_at_every_size);
    RUN(unbalanced_is_refused);
    return unit_summary();
}
