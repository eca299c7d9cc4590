// SPDX-License-Identifier: GPL-2.0
/* kecho's module parameters (read by ksf::config::ServiceParams). */
#include "../../rust/ksf/params.h"

KSF_SERVICE_PARAMS(60007);
KSF_PARAMS(KSF_SERVICE_P);
