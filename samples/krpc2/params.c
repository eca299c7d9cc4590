// SPDX-License-Identifier: GPL-2.0
/* krpc2's module parameters (read by samples/krpc2/rpc.rs). */
#include "../../rust/ksf/params.h"

KSF_SERVICE_PARAMS(62049);
KSF_PARAM_INT(vers_min, 3, "lowest NFS version answered (2-4, default 3)");
KSF_PARAM_INT(vers_max, 3, "highest NFS version answered (vers_min-4, default 3)");
KSF_PARAM_INT(max_record, 4096,
	      "largest RPC record in bytes; larger closes the connection (64-1048576, default 4096)");
KSF_PARAM_INT(files, 0,
	      "files of the in-memory NFSv3 export (default 0: NFS NULL only; 1-64 with vers_min=vers_max=3, writable by any client)");
KSF_PARAM_INT(file_size, 262144,
	      "bytes of each exported file, in pages allocated at load (4096-16777216, default 262144; the export at most a quarter of RAM)");
KSF_PARAM_INT(max_io, 1048576,
	      "most bytes one READ or WRITE moves; max_record is raised to fit a WRITE of it (4096-1048576, default 1048576)");
KSF_PARAMS(KSF_SERVICE_P, KSF_P(vers_min), KSF_P(vers_max), KSF_P(max_record), KSF_P(files),
	   KSF_P(file_size), KSF_P(max_io));
