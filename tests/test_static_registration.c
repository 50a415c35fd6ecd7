/* test_static_registration.c - targets that live in a static library
 * (docs/static-libraries.md), under every start method. */
#include "harness.h"
#include "static_targets/targets.h"

MP_USE_TARGETS(test_targets)

static void runs(mp_target_fn fn, int expected)
{
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process *p;
        MPT_OK(mp_process_new(&p, fn, mpt_opts(methods[m]), NULL));
        assert_int_equal(mpt_run_child(p), expected);
    }
}

static void target_beside_its_function(void **state)
{
    (void)state;
    runs(lib_same_file, 11);
}

static void registrations_linked_by_anchor(void **state)
{
    (void)state;
    runs(lib_anchored, 12);
}

static void registrations_without_anchor_are_dropped(void **state)
{
    (void)state;
    mp_process *p;
    MPT_CODE(mp_process_new(&p, lib_unanchored, NULL, NULL), MP_ENOTREG);
}

static void registered_by_hand(void **state)
{
    (void)state;
    runs(lib_manual, 14);
}

int main(int argc, char **argv)
{
    lib_register_manual();
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(target_beside_its_function),
        MPT_TEST(registrations_linked_by_anchor),
        MPT_TEST(registrations_without_anchor_are_dropped),
        MPT_TEST(registered_by_hand),
    };
    return MPT_RUN(tests);
}
