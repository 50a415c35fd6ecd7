#include "targets.h"

MP_TARGET(lib_anchored)
MP_TARGET_LIBRARY(test_targets)
