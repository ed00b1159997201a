// SPDX-License-Identifier: GPL-2.0-or-later
// StatTable: see stat_table.h. The stat_tap_table_ui struct Wireshark keeps a pointer to is a member
// of a static StatTable, so it never moves; the callbacks find their StatTable from it.
#include "sipsleuth/wsglue/stat_table.h"

#include <algorithm>

namespace sipsleuth::wsglue {

namespace {
std::vector<StatTable*>& all_tables() {
    static std::vector<StatTable*> tables;
    return tables;
}

void clear_item(stat_tap_table_item_type* item) {
    if (item->type == TABLE_ITEM_STRING) g_free(const_cast<char*>(item->value.string_value));
    item->type = TABLE_ITEM_NONE;
    item->value.string_value = nullptr;
}
}  // namespace

StatTable::StatTable(Protocol&, const char* cli, const char* title, std::vector<Column> columns, Fetch fetch,
                     FrameRange range)
    : cli_(cli), title_(title), tap_name_(cli), columns_(std::move(columns)), fetch_(std::move(fetch)) {
    std::replace(tap_name_.begin(), tap_name_.end(), ',', '_');
    fetched_ = columns_.size();
    if (range == FrameRange::shown) {
        columns_.push_back({"First frame", Kind::Uint});
        columns_.push_back({"Last frame", Kind::Uint});
    }
    for (const Column& c : columns_) {
        stat_tap_table_item item{};
        switch (c.kind) {
        case Kind::Uint: item = {TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, c.title, "%u"}; break;
        case Kind::String: item = {TABLE_ITEM_STRING, TAP_ALIGN_LEFT, c.title, "%s"}; break;
        case Kind::Float: item = {TABLE_ITEM_FLOAT, TAP_ALIGN_RIGHT, c.title, "%.3f"}; break;
        }
        items_.push_back(item);
    }
    all_tables().push_back(this);
}

StatTable* StatTable::owner(const stat_tap_table_ui* ui) {
    for (StatTable* t : all_tables())
        if (&t->ui_ == ui) return t;
    return nullptr;
}

void StatTable::register_ui() {
    tap_id_ = register_tap(tap_name_.c_str());
    ui_.group = REGISTER_STAT_GROUP_TELEPHONY;
    ui_.title = title_;
    ui_.tap_name = tap_name_.c_str();
    ui_.cli_string = cli_;
    ui_.stat_tap_init_cb = init_cb;
    ui_.packet_func = packet_cb;
    ui_.stat_tap_reset_table_cb = reset_cb;
    ui_.stat_tap_free_table_item_cb = free_item_cb;
    ui_.stat_filter_check_cb = nullptr;
    ui_.nfields = items_.size();
    ui_.fields = items_.data();
    ui_.nparams = 0;
    ui_.params = nullptr;
    register_stat_tap_table_ui(&ui_);
}

void StatTable::changed(packet_info* pinfo, guint key) {
    if (tap_id_ < 0 || !have_tap_listener(tap_id_)) return;
    guint* data = wmem_new(pinfo->pool, guint);
    *data = key;
    tap_queue_packet(tap_id_, pinfo, data);
}

void StatTable::init_cb(stat_tap_table_ui* ui) {
    StatTable* self = owner(ui);
    if (!self) return;
    // One table per UI instance: a GUI dialog opened twice must not share rows with the first.
    stat_tap_table* table = stat_tap_find_table(ui, self->title_);
    if (!table) {
        table = stat_tap_init_table(self->title_, static_cast<int>(self->items_.size()), 0, nullptr);
        stat_tap_add_table(ui, table);
    }
    self->rows_[table].clear();
}

tap_packet_status StatTable::packet_cb(void* tapdata, packet_info* pinfo, epan_dissect_t*, const void* data,
                                       tap_flags_t) {
    auto* stat_data = static_cast<stat_data_t*>(tapdata);
    StatTable* self = owner(stat_data->stat_tap_data);
    if (!self || !data || !stat_data->stat_tap_data->tables) return TAP_PACKET_DONT_REDRAW;
    const guint key = *static_cast<const guint*>(data);
    GArray* tables = stat_data->stat_tap_data->tables;
    for (guint i = 0; i < tables->len; ++i) self->update(g_array_index(tables, stat_tap_table*, i), key, pinfo->num);
    return TAP_PACKET_REDRAW;
}

void StatTable::update(stat_tap_table* table, guint key, guint32 frame) {
    // The frame range counts every frame naming the row, also while the tracker still hides it.
    Row& r = rows_[table][key];
    if (r.first == 0 || frame < r.first) r.first = frame;
    r.last = std::max(r.last, frame);
    std::vector<Cell> cells;
    cells.reserve(columns_.size());
    bool shown = false;
    try {
        shown = fetch_(key, cells) && cells.size() == fetched_;
    } catch (...) {
        shown = false;  // a tracker that cannot describe a row leaves it out; dissection reports its own errors
    }
    if (!shown) return;
    if (columns_.size() > fetched_) {
        cells.emplace_back(guint{r.first});
        cells.emplace_back(guint{r.last});
    }
    if (!r.index) {
        r.index = table->num_elements;
        std::vector<stat_tap_table_item_type> blank(columns_.size());
        for (auto& b : blank) b.type = TABLE_ITEM_NONE;
        stat_tap_init_table_row(table, *r.index, static_cast<guint>(blank.size()), blank.data());
    }
    const guint row = *r.index;
    for (guint c = 0; c < columns_.size(); ++c) {
        stat_tap_table_item_type* item = stat_tap_get_field_data(table, row, c);
        clear_item(item);
        const Cell& cell = cells[c];
        switch (columns_[c].kind) {
        case Kind::Uint:
            item->type = TABLE_ITEM_UINT;
            item->value.uint_value = std::holds_alternative<guint>(cell) ? std::get<guint>(cell) : 0;
            break;
        case Kind::String:
            item->type = TABLE_ITEM_STRING;
            item->value.string_value =
                g_strdup(std::holds_alternative<std::string>(cell) ? std::get<std::string>(cell).c_str() : "");
            break;
        case Kind::Float:
            item->type = TABLE_ITEM_FLOAT;
            item->value.float_value = std::holds_alternative<double>(cell) ? std::get<double>(cell) : 0.0;
            break;
        }
    }
}

void StatTable::reset_cb(stat_tap_table* table) {
    // Rows cannot be removed through the API: free them and start the table empty again.
    for (guint r = 0; r < table->num_elements; ++r) {
        for (guint c = 0; c < table->num_fields; ++c) clear_item(&table->elements[r][c]);
        g_free(table->elements[r]);
        table->elements[r] = nullptr;
    }
    table->num_elements = 0;
    for (StatTable* t : all_tables()) t->rows_.erase(table);
}

void StatTable::free_item_cb(stat_tap_table* table, guint, guint, stat_tap_table_item_type* item) {
    clear_item(item);
    for (StatTable* t : all_tables()) t->rows_.erase(table);
}

}  // namespace sipsleuth::wsglue
