#include "targets.h"

MP_TARGET(lib_unanchored)
