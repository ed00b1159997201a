// SPDX-License-Identifier: GPL-2.0-or-later
// See registry.h. The static objects register themselves with their protocol during static
// initialisation of the plugin's shared object (one translation unit, so declaration order holds);
// register_all() then builds Wireshark's arrays once. Init and cleanup routines are registered once
// per shared object and fan out to every protocol it holds. The suite's protocols share one shared
// object: each lists its register and handoff functions here, called in link order.
#include "sipsleuth/wsglue/registry.h"

namespace sipsleuth::wsglue {
namespace {

std::vector<Protocol*>& module_protocols() {
    static std::vector<Protocol*> all;
    return all;
}

struct Listed {
    void (*register_fn)();
    void (*handoff_fn)();
};

std::vector<Listed>& listed_protocols() {
    static std::vector<Listed> all;
    return all;
}

void run_all(const std::vector<std::function<void()>>& fns) {
    for (const auto& fn : fns) {
        try {
            fn();
        } catch (...) {
            // Nothing useful can be reported from an init routine; the state stays empty.
        }
    }
}

}  // namespace

Field::Field(Protocol& proto, const char* abbrev, const char* name, ftenum type, int display, const void* strings,
             const char* blurb)
    : info_{name, abbrev, type, display, strings, 0, blurb, HFILL} {
    proto.fields_.push_back(this);
}

Subtree::Subtree(Protocol& proto) { proto.subtrees_.push_back(this); }

Expert::Expert(Protocol& proto, const char* abbrev, int group, int severity, const char* summary)
    : abbrev_(abbrev), group_(group), severity_(severity), summary_(summary) {
    proto.experts_.push_back(this);
}

UintPref::UintPref(Protocol& proto, const char* name, const char* title, const char* description,
                   guint default_value)
    : name_(name), title_(title), description_(description), value_(default_value) {
    proto.prefs_.push_back(this);
}

Protocol::Protocol(const char* name, const char* short_name, const char* filter_name)
    : name_(name),
      short_name_(short_name),
      filter_name_(filter_name),
      internal_error_abbrev_(std::string(filter_name) + ".internal_error"),
      internal_error_(*this, internal_error_abbrev_.c_str(), PI_MALFORMED, PI_ERROR,
                      "Internal error in sipsleuth on this packet") {
    module_protocols().push_back(this);
}

void Protocol::register_all() {
    id_ = proto_register_protocol(name_, short_name_, filter_name_);

    hf_.reserve(fields_.size());
    for (Field* f : fields_) {
        hf_register_info r{};
        r.p_id = &f->id_;
        r.hfinfo = f->info_;
        hf_.push_back(r);
    }
    if (!hf_.empty()) proto_register_field_array(id_, hf_.data(), static_cast<int>(hf_.size()));

    ett_.reserve(subtrees_.size());
    for (Subtree* s : subtrees_) ett_.push_back(&s->id_);
    if (!ett_.empty()) proto_register_subtree_array(ett_.data(), static_cast<int>(ett_.size()));

    ei_.reserve(experts_.size());
    for (Expert* e : experts_) {
        ei_register_info r{};
        r.ids = &e->field_;
        r.eiinfo = expert_field_info{e->abbrev_, e->group_, e->severity_, e->summary_, EXPFILL};
        ei_.push_back(r);
    }
    expert_module_t* expert = expert_register_protocol(id_);
    expert_register_field_array(expert, ei_.data(), static_cast<int>(ei_.size()));

    if (!prefs_.empty()) {
        module_t* module = prefs_register_protocol(id_, nullptr);
        for (UintPref* p : prefs_)
            prefs_register_uint_preference(module, p->name_, p->title_, p->description_, 10, &p->value_);
    }

    // One pair of routines per shared object, covering all of its protocols.
    static bool routines_registered = false;
    if (!routines_registered) {
        routines_registered = true;
        register_init_routine(&Protocol::run_init);
        register_cleanup_routine(&Protocol::run_cleanup);
    }
}

bool Protocol::enabled() const { return id_ >= 0 && proto_is_protocol_enabled(find_protocol_by_id(id_)); }

void Protocol::run_init() {
    for (Protocol* p : module_protocols()) run_all(p->init_);
}

void Protocol::run_cleanup() {
    for (Protocol* p : module_protocols()) run_all(p->cleanup_);
}

bool add_protocol(void (*register_fn)(), void (*handoff_fn)()) {
    listed_protocols().push_back({register_fn, handoff_fn});
    return true;
}

void register_protocols() {
    for (const Listed& p : listed_protocols()) p.register_fn();
}

void handoff_protocols() {
    for (const Listed& p : listed_protocols()) p.handoff_fn();
}

}  // namespace sipsleuth::wsglue
