// SPDX-License-Identifier: GPL-2.0
/* krpc2's module parameters (read by samples/krpc2/krpc2_main.rs). */
#include "../../rust/ksf/params.h"

KSF_PARAM_INT(port, 62049, "TCP and UDP port (1-65535, default 62049)");
KSF_PARAM_INT(vers_min, 3, "lowest NFS version answered (2-4, default 3)");
KSF_PARAM_INT(vers_max, 3, "highest NFS version answered (vers_min-4, default 3)");
KSF_PARAM_INT(max_record, 4096, "largest RPC record in bytes; larger closes the connection (64-1048576, default 4096)");
KSF_PARAM_INT(threads_min, 1, "worker threads kept per CPU (1-64, default 1)");
KSF_PARAM_INT(threads_max, 8, "most worker threads per CPU (threads_min-64, default 8)");
KSF_PARAM_INT(sndbuf, 0, "SO_SNDBUF of connections in bytes (0 = system default, else 4096-67108864)");
KSF_PARAM_INT(rcvbuf, 0, "SO_RCVBUF of connections in bytes (0 = system default, else 4096-67108864)");
KSF_PARAM_INT(max_conns, 65536, "most TCP connections at once (1-1048576, default 65536)");

KSF_PARAMS(KSF_P(port), KSF_P(vers_min), KSF_P(vers_max), KSF_P(max_record),
	   KSF_P(threads_min), KSF_P(threads_max), KSF_P(sndbuf), KSF_P(rcvbuf),
	   KSF_P(max_conns));
