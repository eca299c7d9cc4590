// SPDX-License-Identifier: GPL-2.0
#include "../../rust/ksf/helpers.c"
#include "../../rust/ksf/tests/helpers.c"
