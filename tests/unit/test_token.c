/*
 * Replacing a key pair (firmware/token/token.c, op_generate and pair_settle) against an in-memory
 * token that can be cut off at any mutating call: the call takes effect (or not) and the link
 * drops, or the power goes (the appliance's RAM is lost; the token keeps what it has). Every cut
 * point, two cuts in a row (a cut during the recovery of a cut), and every combination of up to two
 * private and public halves under the name and the staged name: afterwards the key is one whole
 * pair whose halves belong together, or none, or it is refused as damaged — never used half.
 */
#include "firmware/token/token.h"

#include "fake_p11.h"
#include "unit.h"

/* The token: tests/unit/fake_p11.c, its cuts counted in mutating calls. */
static void cut(int k, bool applies, bool power, bool again)
{
    fake_p11_cut_mutation_at(k, applies, power, again);
}

/* ---- helpers ---- */

static struct token tok;

/* The appliance (re)starts: RAM is new, the token is as it was; the operator logs in. */
static void boot(void)
{
    fake_p11_power_on();
    fake_p11_link_lost(); /* a restarted appliance connects anew */
    token_init(&tok);
    (void)token_login(&tok, (const uint8_t *)"123456", 6);
}

static int count(CK_OBJECT_CLASS cls, const char *id)
{
    return fake_p11_count(cls, id);
}

static int pair_of(CK_OBJECT_CLASS cls, const char *id)
{
    const struct fake_p11_obj *o = fake_p11_objects();
    for (int i = 0; i < FAKE_P11_OBJS; i++)
        if (o[i].used && o[i].cls == cls && strcmp(o[i].id, id) == 0)
            return o[i].pair;
    return -1;
}

static void put(CK_OBJECT_CLASS cls, const char *id, int pair)
{
    struct fake_p11_obj *o = fake_p11_put(cls, id, "", 0);
    CHECK(o != NULL);
    o->kt = CKK_EC;
    o->pair = pair;
}

/* What every cut must leave once the key is looked up again: one whole pair, halves of one
 * generation, nothing staged; its generation returned. */
static int one_whole_pair(void)
{
    bool found = false;
    CK_RV rv = token_find_key(&tok, &tok.slc, &found, NULL);

    if (rv != CKR_OK || !found)
        return -1;
    if (count(CKO_PRIVATE_KEY, TOKEN_SLC_ID) != 1 || count(CKO_PUBLIC_KEY, TOKEN_SLC_ID) != 1 ||
        count(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new") || count(CKO_PUBLIC_KEY, TOKEN_SLC_ID "-new"))
        return -1;
    int p = pair_of(CKO_PRIVATE_KEY, TOKEN_SLC_ID);
    return p == pair_of(CKO_PUBLIC_KEY, TOKEN_SLC_ID) ? p : -1;
}

/* A token holding the first key (generation 1), the appliance booted and logged in. */
static void with_first_key(void)
{
    fake_p11_reset();
    boot();
    CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_OK);
    CHECK_EQ(one_whole_pair(), 1);
}

/* The mutating calls of one clean replacement. */
static int replace_calls(void)
{
    with_first_key();
    int before = fake_p11_mutating_calls();
    CK_RV rv = token_generate_key(&tok, &tok.slc, TOKEN_P256, true);
    return rv == CKR_OK ? fake_p11_mutating_calls() - before : -1;
}

/* ---- tests ---- */

TEST(clean_replacement_makes_one_new_pair)
{
    CHECK_EQ(replace_calls(), 5); /* generate, 2 destroys, 2 renames */
    CHECK_EQ(one_whole_pair(), 2);
    CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_FUNCTION_REJECTED);
    CHECK_EQ(one_whole_pair(), 2);
}

TEST(link_drop_at_every_call_is_retried_to_one_pair)
{
    int calls = replace_calls();
    for (int applies = 0; applies < 2; applies++)
        for (int k = 1; k <= calls; k++) {
            with_first_key();
            cut(k, applies, false, false);
            CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, true), CKR_OK);
            CHECK(one_whole_pair() >= 2); /* the new key (or a newer one made by the retry) */
        }
}

TEST(power_cut_at_every_call_leaves_old_or_new)
{
    int calls = replace_calls();
    for (int applies = 0; applies < 2; applies++)
        for (int k = 1; k <= calls; k++) {
            with_first_key();
            cut(k, applies, true, false);
            CHECK(token_generate_key(&tok, &tok.slc, TOKEN_P256, true) != CKR_OK);
            boot();
            int p = one_whole_pair();
            CHECK(p == 1 || p == 2);
            /* Before the old private half goes, the old key stays; from then on the new one. */
            CHECK_EQ(p, (k > 2 || (k == 2 && applies)) ? 2 : 1);
        }
}

TEST(power_cut_during_the_recovery_of_a_power_cut)
{
    int calls = replace_calls();
    for (int k = 1; k <= calls; k++)
        for (int j = 1; j <= 4; j++) {
            with_first_key();
            cut(k, true, true, false);
            (void)token_generate_key(&tok, &tok.slc, TOKEN_P256, true);
            boot(); /* the login's look-up settles; cut it too, at its j-th change */
            cut(j, true, true, false);
            bool found;
            (void)token_find_key(&tok, &tok.slc, &found, NULL);
            cut(0, false, false, false);
            boot();
            int p = one_whole_pair();
            CHECK(p == 1 || p == 2);
        }
}

TEST(link_drop_under_the_retry_too_is_settled_by_the_next_look_up)
{
    int calls = replace_calls();
    for (int k = 1; k <= calls; k++) {
        with_first_key();
        cut(k, true, false, true);
        CHECK(token_generate_key(&tok, &tok.slc, TOKEN_P256, true) != CKR_OK);
        cut(0, false, false, false);
        int p = one_whole_pair();
        CHECK(p >= 1);
    }
}

TEST(first_key_cut_is_made_once)
{
    for (int k = 1; k <= 3; k++) {
        fake_p11_reset();
        boot();
        cut(k, true, false, false);
        CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), CKR_OK);
        CHECK_EQ(one_whole_pair(), 1); /* the retry found its own pair, made no second */
        CHECK_EQ(fake_p11_pairs_made(), 1);
    }
}

/* Every mix of 0..2 private and public halves under the name and the staged name, the halves
 * from different generations: the look-up leaves one matching pair or none, nothing staged, or
 * refuses a damaged key; replacing always ends with one new pair. */
TEST(every_mix_of_halves_is_settled_or_refused)
{
    for (int mix = 0; mix < 81; mix++) {
        int p = mix % 3, q = mix / 3 % 3, ps = mix / 9 % 3, qs = mix / 27;
        fake_p11_reset();
        for (int i = 0; i < p; i++)
            put(CKO_PRIVATE_KEY, TOKEN_SLC_ID, 10 + i);
        for (int i = 0; i < q; i++)
            put(CKO_PUBLIC_KEY, TOKEN_SLC_ID, q == 1 && p == 1 ? 10 : 20 + i);
        for (int i = 0; i < ps; i++)
            put(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new", 30 + i);
        for (int i = 0; i < qs; i++)
            put(CKO_PUBLIC_KEY, TOKEN_SLC_ID "-new", qs == 1 && ps == 1 ? 30 : 40 + i);
        /* The one state a cut rename leaves: the lone halves are one pair. */
        if (p == 1 && q == 0 && ps == 0 && qs == 1)
            fake_p11_objects()[1].pair = fake_p11_objects()[0].pair;
        boot();
        bool found = false;
        CK_RV rv = token_find_key(&tok, &tok.slc, &found, NULL);
        int left = count(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new") +
                   count(CKO_PUBLIC_KEY, TOKEN_SLC_ID "-new");
        int cp = count(CKO_PRIVATE_KEY, TOKEN_SLC_ID), cq = count(CKO_PUBLIC_KEY, TOKEN_SLC_ID);
        CHECK_EQ(left, 0);
        if (rv == CKR_OK) {
            CHECK((found && cp == 1 && cq == 1) || (!found && cp == 0 && cq == 0));
            if (found)
                CHECK_EQ(pair_of(CKO_PRIVATE_KEY, TOKEN_SLC_ID),
                         pair_of(CKO_PUBLIC_KEY, TOKEN_SLC_ID));
        } else {
            CHECK_EQ(rv, TOKEN_RV_PAIR_DAMAGED);
            CHECK(!found && !(cp == 1 && cq == 1) && cp + cq > 0);
            CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, false), TOKEN_RV_PAIR_DAMAGED);
        }
        int before = fake_p11_pairs_made();
        CHECK_EQ(token_generate_key(&tok, &tok.slc, TOKEN_P256, true), CKR_OK);
        CHECK_EQ(one_whole_pair(), before + 1);
    }
}

TEST(not_logged_in_nothing_is_judged_or_changed)
{
    fake_p11_reset();
    put(CKO_PUBLIC_KEY, TOKEN_SLC_ID, 1); /* what is visible without a login */
    put(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new", 2);
    fake_p11_power_on();
    fake_p11_link_lost();
    token_init(&tok);
    bool found = true;
    CHECK_EQ(token_find_key(&tok, &tok.slc, &found, NULL), CKR_OK);
    CHECK(!found);
    CHECK_EQ(count(CKO_PUBLIC_KEY, TOKEN_SLC_ID), 1);
    CHECK_EQ(count(CKO_PRIVATE_KEY, TOKEN_SLC_ID "-new"), 1);
}

int main(void)
{
    RUN(clean_replacement_makes_one_new_pair);
    RUN(link_drop_at_every_call_is_retried_to_one_pair);
    RUN(power_cut_at_every_call_leaves_old_or_new);
    RUN(power_cut_during_the_recovery_of_a_power_cut);
    RUN(link_drop_under_the_retry_too_is_settled_by_the_next_look_up);
    RUN(first_key_cut_is_made_once);
    RUN(every_mix_of_halves_is_settled_or_refused);
    RUN(not_logged_in_nothing_is_judged_or_changed);
    return unit_summary();
}
