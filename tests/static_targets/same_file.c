#include "targets.h"

int lib_same_file(const mp_value *args)
{
    (void)args;
    return 11;
}
MP_TARGET(lib_same_file)
