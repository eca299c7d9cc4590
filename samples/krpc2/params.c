// SPDX-License-Identifier: GPL-2.0
/* krpc2's module parameters (read by samples/krpc2/rpc.rs). */
#include "../../rust/ksf/params.h"

KSF_SERVICE_PARAMS(62049);
KSF_PARAM_INT(vers_min, 3, "lowest NFS version answered (2-4, default 3)");
KSF_PARAM_INT(vers_max, 3, "highest NFS version answered (vers_min-4, default 3)");
KSF_PARAM_INT(max_record, 4096,
	      "largest RPC record in bytes; larger closes the connection (64-1048576, default 4096)");
KSF_PARAMS(KSF_SERVICE_P, KSF_P(vers_min), KSF_P(vers_max), KSF_P(max_record));
