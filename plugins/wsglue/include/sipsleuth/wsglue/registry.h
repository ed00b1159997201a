// SPDX-License-Identifier: GPL-2.0-or-later
// Registration tables for one protocol: fields, subtrees, expert infos and preferences declared as
// static objects next to the code that uses them, gathered into arrays that are built once in
// proto_register_* and never resized (Wireshark keeps pointers into them until exit). Each protocol
// also gets `<abbr>.internal_error`, raised when C++ code inside a dissector fails instead of letting
// an exception reach epan.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sipsleuth/wsglue/epan.h"

namespace sipsleuth::wsglue {

class Protocol;

/// A header field (hf). Construct as a static object after its Protocol; id() is valid after
/// Protocol::register_all().
class Field {
public:
    Field(Protocol& proto, const char* abbrev, const char* name, ftenum type, int display = BASE_NONE,
          const void* strings = nullptr, const char* blurb = nullptr);
    int id() const { return id_; }
    operator int() const { return id_; }

private:
    friend class Protocol;
    int id_ = -1;
    header_field_info info_;
};

/// A subtree type (ett).
class Subtree {
public:
    explicit Subtree(Protocol& proto);
    operator int() const { return id_; }

private:
    friend class Protocol;
    int id_ = -1;
};

/// An expert info (ei); the summary is sentence case without a period.
class Expert {
public:
    Expert(Protocol& proto, const char* abbrev, int group, int severity, const char* summary);
    expert_field* get() { return &field_; }

private:
    friend class Protocol;
    expert_field field_ = EI_INIT;
    const char* abbrev_;
    int group_, severity_;
    const char* summary_;
};

/// An unsigned integer preference; value() reads the current setting.
class UintPref {
public:
    UintPref(Protocol& proto, const char* name, const char* title, const char* description, guint default_value);
    guint value() const { return value_; }

private:
    friend class Protocol;
    const char *name_, *title_, *description_;
    guint value_;
};

/// A protocol (proto) with its tables. One static instance per plugin protocol.
class Protocol {
public:
    Protocol(const char* name, const char* short_name, const char* filter_name);
    Protocol(const Protocol&) = delete;
    Protocol& operator=(const Protocol&) = delete;

    int id() const { return id_; }
    /// Registers the protocol and every table declared against it; call from proto_register_*.
    void register_all();
    /// Callbacks run when a capture starts / ends (register_init_routine / register_cleanup_routine).
    void on_init(std::function<void()> fn) { init_.push_back(std::move(fn)); }
    void on_cleanup(std::function<void()> fn) { cleanup_.push_back(std::move(fn)); }
    bool enabled() const;
    /// Whether anything will look at this protocol's fields in `tree`: the tree is shown (GUI details,
    /// -V, PDML, JSON), or the protocol or one of its fields is in a filter, column, -e field, colouring
    /// rule or another dissector's wanted fields (epan's proto_field_is_referenced on the protocol,
    /// which priming any field marks). When false, proto_tree_add_* would fake every item: skip
    /// formatting what nobody will see. Expert infos, table rows and Info-column tags are not fields
    /// and must be added either way.
    bool referenced(proto_tree* tree) const { return tree != nullptr && proto_field_is_referenced(tree, id_); }
    /// Expert raised by guard() when C++ code fails.
    expert_field* internal_error() { return internal_error_.get(); }

private:
    friend class Field;
    friend class Subtree;
    friend class Expert;
    friend class UintPref;
    static void run_init();
    static void run_cleanup();

    const char *name_, *short_name_, *filter_name_;
    int id_ = -1;
    std::string internal_error_abbrev_;
    std::vector<Field*> fields_;
    std::vector<Subtree*> subtrees_;
    std::vector<Expert*> experts_;
    std::vector<UintPref*> prefs_;
    std::vector<hf_register_info> hf_;
    std::vector<int*> ett_;
    std::vector<ei_register_info> ei_;
    std::vector<std::function<void()>> init_, cleanup_;
    Expert internal_error_;
};

/// Runs fn and turns any C++ exception into the protocol's internal_error expert info on item, so
/// nothing C++ unwinds into epan. Call only code that holds no epan exception risk inside fn.
template <class Fn>
void guard(Protocol& proto, packet_info* pinfo, proto_item* item, Fn&& fn) {
    // The message is copied to packet memory inside the handler: the exception (and a message it
    // owns) is gone once the handler ends.
    const char* what = nullptr;
    try {
        fn();
        return;
    } catch (const std::exception& e) {
        what = wmem_strdup(pinfo->pool, e.what());
    } catch (...) {
        what = "unknown exception";
    }
    expert_add_info_format(pinfo, item, proto.internal_error(), "Internal error in sipsleuth: %s", what);
}

/// The protocols of the shared object, each with its proto_register_* and proto_reg_handoff_*, in
/// the order their translation units were linked. SIPSLEUTH_PROTOCOL adds one during static
/// initialisation; the shared object's plugin_register() (SIPSLEUTH_PLUGIN) registers one proto_plugin
/// whose callbacks are register_protocols and handoff_protocols, so every protocol is registered once
/// and each is still enabled and disabled on its own.
bool add_protocol(void (*register_fn)(), void (*handoff_fn)());
void register_protocols();
void handoff_protocols();

}  // namespace sipsleuth::wsglue

/// Lists a protocol of the suite's shared object (the last line of each plugin's packet-*.cc).
#define SIPSLEUTH_PROTOCOL(register_fn, handoff_fn)                  \
    namespace {                                                      \
    [[maybe_unused]] const bool sipsleuth_protocol_listed =          \
        ::sipsleuth::wsglue::add_protocol(register_fn, handoff_fn);  \
    }

/// Exports the three symbols and plugin_register() that Wireshark 4.0 looks for, once per shared
/// object (plugins/sipsleuth.cc for the suite: register_protocols, handoff_protocols; the test-only
/// probe its own pair). `extern` matters in C++: without it the visibility attribute is ignored and
/// Wireshark silently skips the plugin.
#define SIPSLEUTH_PLUGIN(register_fn, handoff_fn)                                         \
    extern "C" {                                                                          \
    extern WS_DLL_PUBLIC_DEF const gchar plugin_version[];                                \
    extern WS_DLL_PUBLIC_DEF const int plugin_want_major;                                 \
    extern WS_DLL_PUBLIC_DEF const int plugin_want_minor;                                 \
    const gchar plugin_version[] = SIPSLEUTH_VERSION;                                     \
    const int plugin_want_major = SIPSLEUTH_WS_MAJOR;                                     \
    const int plugin_want_minor = SIPSLEUTH_WS_MINOR;                                     \
    WS_DLL_PUBLIC void plugin_register(void);                                             \
    void plugin_register(void) {                                                          \
        static proto_plugin plug;                                                         \
        plug.register_protoinfo = register_fn;                                            \
        plug.register_handoff = handoff_fn;                                               \
        proto_register_plugin(&plug);                                                     \
    }                                                                                     \
    }
