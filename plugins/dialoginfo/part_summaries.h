// SPDX-License-Identifier: GPL-2.0-or-later
// The summaries of the dialog-info bodies that are multipart parts of the frame being dissected, for
// rlmi's post-dissector (both protocols are in sipsleuth.so): it links each RLMI instance's cid to its
// part and quotes the part's summary. rlmi read them as its wanted field `dialoginfo.summary`; a wanted
// field marks its whole protocol referenced on every packet, so dialoginfo could never skip formatting
// what nobody reads (Protocol::referenced). Filled on the first pass only, as rlmi links only then.
#pragma once

#include <string>
#include <vector>

#include "sipsleuth/wsglue/epan.h"

namespace sipsleuth::dialoginfo {

/// One dialog-info part as its `dialoginfo.summary` item placed it: data source and offset of the body.
struct PartSummary {
    tvbuff_t* ds;
    int offset;
    std::string summary;
};

/// The dialog-info parts of frame `frame` dissected so far on its first pass (with a tree), in
/// dissection order; empty for any other frame or when dialoginfo is disabled.
const std::vector<PartSummary>& part_summaries(guint32 frame);

}  // namespace sipsleuth::dialoginfo
