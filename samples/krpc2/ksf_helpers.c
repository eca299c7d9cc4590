// SPDX-License-Identifier: GPL-2.0
#include "../../rust/ksf/helpers.c"
