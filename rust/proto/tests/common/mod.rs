// SPDX-License-Identifier: GPL-2.0

//! What the host tests share (and the fuzz targets mount).

pub mod round_trip;
