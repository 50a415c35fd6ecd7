#include "targets.h"

int lib_anchored(const mp_value *args)
{
    (void)args;
    return 12;
}

int lib_unanchored(const mp_value *args)
{
    (void)args;
    return 13;
}

int lib_manual(const mp_value *args)
{
    (void)args;
    return 14;
}
