#include "targets.h"

void lib_register_manual(void)
{
    mp_register("lib_manual", lib_manual);
}
