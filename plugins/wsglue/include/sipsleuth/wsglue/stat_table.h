// SPDX-License-Identifier: GPL-2.0-or-later
// A statistics table (epan stat_tap_table_ui) for a tracker's summary: one row per tracked object
// (a subscription, a binding, a connection), shown by `tshark -z <cli>[,filter]` and in the GUI's
// Telephony menu. The tracker keeps the truth; the table only mirrors it. Dissection calls changed()
// for the row a packet belongs to (on the first pass and on revisits, since `tshark -2` and the GUI
// tap on a later pass), and the tap callback re-fetches that row from the tracker. Tables are
// created by the UI (once per tshark -z, once per GUI dialog), so rows are indexed per table.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {

class StatTable {
public:
    enum class Kind { Uint, String, Float };
    struct Column {
        const char* title;
        Kind kind;
    };
    using Cell = std::variant<guint, std::string, double>;
    /// Fills the row of `key` from the tracker's current state (one Cell per column, of the column's
    /// kind); false hides the row (it is not shown until a later fetch returns true).
    using Fetch = std::function<bool(guint key, std::vector<Cell>& cells)>;
    /// Whether the table appends the "First frame" and "Last frame" columns (not part of Fetch's cells).
    enum class FrameRange { none, shown };

    /// cli: e.g. "siptrack,subscriptions" -> `tshark -z siptrack,subscriptions[,filter]`. Construct
    /// as a static object; the tap is named after cli with ',' replaced by '_'.
    StatTable(Protocol& proto, const char* cli, const char* title, std::vector<Column> columns, Fetch fetch,
              FrameRange range = FrameRange::none);
    StatTable(const StatTable&) = delete;
    StatTable& operator=(const StatTable&) = delete;

    /// From proto_register_*, after Protocol::register_all(): registers the tap and the table UI.
    void register_ui();
    /// From dissection, on the first pass and on revisits: the row for `key` changed or this packet
    /// belongs to it. Costs one check when nobody listens.
    void changed(packet_info* pinfo, guint key);

private:
    static StatTable* owner(const stat_tap_table_ui* ui);
    static void init_cb(stat_tap_table_ui* ui);
    static tap_packet_status packet_cb(void* tapdata, packet_info* pinfo, epan_dissect_t* edt, const void* data,
                                       tap_flags_t flags);
    static void reset_cb(stat_tap_table* table);
    static void free_item_cb(stat_tap_table* table, guint row, guint column, stat_tap_table_item_type* item);
    void update(stat_tap_table* table, guint key, guint32 frame);

    const char* cli_;
    const char* title_;
    std::string tap_name_;
    std::vector<Column> columns_;
    std::vector<stat_tap_table_item> items_;
    Fetch fetch_;
    stat_tap_table_ui ui_{};
    int tap_id_ = -1;
    struct Row {
        std::optional<guint> index;  ///< in the table, once shown
        guint32 first = 0, last = 0;  ///< frames the row was named in
    };
    std::size_t fetched_ = 0;  ///< columns Fetch fills (columns_ minus the frame range)
    std::map<const stat_tap_table*, std::map<guint, Row>> rows_;  ///< per table: key -> its row
};

}  // namespace sipsleuth::wsglue
