// libtnfctl's C API over pctx::ProbeControl. No exception crosses into C:
// each entry point catches, keeps the message for tnfctl_errmsg(), and
// returns the libtnfctl error code.
#include <pctx/probes.hpp>
#include <pctx/tnfctl.h>

#include <signal.h>

#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <vector>

struct tnfctl_probe_handle {
    unsigned id = 0;
};

// What tnfctl_probe_state_get() points into, per probe.
struct ProbeStrings {
    std::string attr;
    std::vector<std::string> types;
    std::vector<const char*> type_ptrs;
};

struct tnfctl_handle {
    std::unique_ptr<pctx::ProbeControl> ctl;
    void* prochandle = nullptr;
    tnfctl_ind_config_t config{};
    std::map<unsigned, std::unique_ptr<tnfctl_probe_handle>> probe_handles;
    std::map<unsigned, ProbeStrings> strings;
    std::set<unsigned> new_probes;
    tnfctl_hit_f* hit_fn = nullptr;
    void* hit_arg = nullptr;
};

namespace {

thread_local std::string t_errmsg;

tnfctl_errcode_t code_of(pctx::ProbeErrc code)
{
    switch (code) {
    case pctx::ProbeErrc::AllocFail:
        return TNFCTL_ERR_ALLOCFAIL;
    case pctx::ProbeErrc::NoProbes:
        return TNFCTL_ERR_NOLIBTNFPROBE;
    case pctx::ProbeErrc::BadPid:
        return TNFCTL_ERR_NOPROCESS;
    case pctx::ProbeErrc::Permission:
        return TNFCTL_ERR_ACCES;
    case pctx::ProbeErrc::BadArg:
        return TNFCTL_ERR_BADARG;
    case pctx::ProbeErrc::Internal:
        break;
    }
    return TNFCTL_ERR_INTERNAL;
}

// Runs body, turning every exception into an error code and a message.
template <typename Body> tnfctl_errcode_t guarded(Body&& body) noexcept
{
    try {
        t_errmsg.clear();
        return body();
    } catch (const pctx::ProbeError& e) {
        t_errmsg = e.what();
        return code_of(e.code());
    } catch (const std::bad_alloc&) {
        t_errmsg = "out of memory";
        return TNFCTL_ERR_ALLOCFAIL;
    } catch (const std::exception& e) {
        t_errmsg = e.what();
        return TNFCTL_ERR_INTERNAL;
    } catch (...) {
        t_errmsg = "unexpected error";
        return TNFCTL_ERR_INTERNAL;
    }
}

// Probe handles follow the probe set: new ones get a handle and are marked
// new, vanished ones lose theirs.
void sync_probes(tnfctl_handle& h, bool mark_new)
{
    std::set<unsigned> present;
    h.new_probes.clear();
    for (const auto& p : h.ctl->probes()) {
        present.insert(p.id);
        auto& slot = h.probe_handles[p.id];
        if (!slot) {
            slot = std::make_unique<tnfctl_probe_handle>();
            slot->id = p.id;
            if (mark_new)
                h.new_probes.insert(p.id);
        }
    }
    for (auto it = h.probe_handles.begin(); it != h.probe_handles.end();) {
        if (present.count(it->first) == 0) {
            h.strings.erase(it->first);
            it = h.probe_handles.erase(it);
        } else {
            ++it;
        }
    }
}

tnfctl_errcode_t finish_open(std::unique_ptr<tnfctl_handle> h, tnfctl_handle_t** ret_val)
{
    sync_probes(*h, false);
    *ret_val = h.release();
    return TNFCTL_ERR_NONE;
}

// The C obj_iter callback calls this, which calls the C++ visitor; an
// exception there becomes a non-zero return (INTERNAL for the caller).
struct IterState {
    const std::function<int(const pctx::ProbeObjectInfo&)>* each;
};

int obj_trampoline(void* /*prochandle*/, const tnfctl_ind_obj_info* obj, void* client_data)
{
    try {
        pctx::ProbeObjectInfo info;
        info.objfd = obj->objfd;
        info.text_base = obj->text_base;
        info.data_base = obj->data_base;
        info.objname = obj->objname != nullptr ? obj->objname : "";
        return (*static_cast<IterState*>(client_data)->each)(info);
    } catch (...) {
        return -1;
    }
}

bool valid_probe(const tnfctl_handle* h, const tnfctl_probe_t* probe)
{
    if (h == nullptr || probe == nullptr)
        return false;
    const auto it = h->probe_handles.find(probe->id);
    return it != h->probe_handles.end() && it->second.get() == probe;
}

} // namespace

extern "C" {

tnfctl_errcode_t tnfctl_pid_open(pid_t pid, tnfctl_handle_t** ret_val)
{
    if (ret_val == nullptr)
        return TNFCTL_ERR_BADARG;
    return guarded([&] {
        auto h = std::make_unique<tnfctl_handle>();
        h->ctl = std::make_unique<pctx::ProbeControl>(pctx::ProbeControl::open_pid(pid));
        return finish_open(std::move(h), ret_val);
    });
}

tnfctl_errcode_t tnfctl_indirect_open(void* prochandle, tnfctl_ind_config_t* config,
                                      tnfctl_handle_t** ret_val)
{
    if (ret_val == nullptr || config == nullptr || config->p_read == nullptr ||
        config->p_getpid == nullptr || config->p_obj_iter == nullptr)
        return TNFCTL_ERR_BADARG;
    return guarded([&] {
        auto h = std::make_unique<tnfctl_handle>();
        h->prochandle = prochandle;
        h->config = *config;
        const tnfctl_ind_config_t c = *config;
        pctx::ProbeIndirectConfig cfg;
        cfg.read = [c, prochandle](std::uint64_t addr, void* buf, std::size_t size) {
            return c.p_read(prochandle, static_cast<uintptr_t>(addr), static_cast<char*>(buf),
                            size);
        };
        cfg.getpid = [c, prochandle] {
            return c.p_getpid(prochandle);
        };
        cfg.obj_iter = [c,
                        prochandle](const std::function<int(const pctx::ProbeObjectInfo&)>& each) {
            IterState state{&each};
            return c.p_obj_iter(prochandle, &obj_trampoline, &state);
        };
        h->ctl =
            std::make_unique<pctx::ProbeControl>(pctx::ProbeControl::open_indirect(std::move(cfg)));
        return finish_open(std::move(h), ret_val);
    });
}

tnfctl_errcode_t tnfctl_check_libs(tnfctl_handle_t* hndl)
{
    if (hndl == nullptr)
        return TNFCTL_ERR_BADARG;
    return guarded([&] {
        hndl->ctl->check_libs();
        sync_probes(*hndl, true);
        return TNFCTL_ERR_NONE;
    });
}

tnfctl_errcode_t tnfctl_close(tnfctl_handle_t* hndl, tnfctl_targ_op_t action)
{
    if (hndl == nullptr)
        return TNFCTL_ERR_BADARG;
    const pid_t pid = hndl->ctl->pid();
    // Destruction detaches every probe this handle enabled.
    delete hndl;
    if (action == TNFCTL_TARG_KILL)
        ::kill(pid, SIGKILL);
    else if (action == TNFCTL_TARG_SUSPEND)
        ::kill(pid, SIGSTOP);
    return TNFCTL_ERR_NONE;
}

tnfctl_errcode_t tnfctl_probe_apply(tnfctl_handle_t* hndl, tnfctl_probe_op_t probe_op,
                                    void* clientdata)
{
    if (hndl == nullptr || probe_op == nullptr)
        return TNFCTL_ERR_BADARG;
    std::vector<tnfctl_probe_t*> probes;
    const tnfctl_errcode_t err = guarded([&] {
        for (const auto& p : hndl->ctl->probes())
            probes.push_back(hndl->probe_handles.at(p.id).get());
        return TNFCTL_ERR_NONE;
    });
    if (err != TNFCTL_ERR_NONE)
        return err;
    for (tnfctl_probe_t* probe : probes)
        if (const tnfctl_errcode_t rc = probe_op(hndl, probe, clientdata); rc != TNFCTL_ERR_NONE)
            return rc;
    return TNFCTL_ERR_NONE;
}

tnfctl_errcode_t tnfctl_probe_apply_ids(tnfctl_handle_t* hndl, unsigned long probe_count,
                                        unsigned long* probe_ids, tnfctl_probe_op_t probe_op,
                                        void* clientdata)
{
    if (hndl == nullptr || probe_op == nullptr || (probe_count > 0 && probe_ids == nullptr))
        return TNFCTL_ERR_BADARG;
    for (unsigned long i = 0; i < probe_count; ++i) {
        const auto it = hndl->probe_handles.find(static_cast<unsigned>(probe_ids[i]));
        if (it == hndl->probe_handles.end()) {
            t_errmsg = "no probe with id " + std::to_string(probe_ids[i]);
            return TNFCTL_ERR_INVALIDPROBE;
        }
        if (const tnfctl_errcode_t rc = probe_op(hndl, it->second.get(), clientdata);
            rc != TNFCTL_ERR_NONE)
            return rc;
    }
    return TNFCTL_ERR_NONE;
}

tnfctl_errcode_t tnfctl_probe_state_get(tnfctl_handle_t* hndl, tnfctl_probe_t* probe_hndl,
                                        tnfctl_probe_state_t* state)
{
    if (state == nullptr)
        return TNFCTL_ERR_BADARG;
    if (!valid_probe(hndl, probe_hndl))
        return TNFCTL_ERR_INVALIDPROBE;
    return guarded([&] {
        const pctx::ProbeInfo& p = hndl->ctl->probe(probe_hndl->id);
        const unsigned count = hndl->ctl->semaphore_value(p.id);
        ProbeStrings& s = hndl->strings[p.id];
        if (s.attr.empty()) {
            s.attr = "provider " + p.provider + "; name " + p.name + "; args ";
            for (std::size_t i = 0; i < p.args.size(); ++i) {
                s.attr += (i > 0 ? "," : "") + p.args[i].type;
                s.types.push_back(p.args[i].type);
            }
            for (const auto& t : s.types)
                s.type_ptrs.push_back(t.c_str());
        }
        *state = tnfctl_probe_state_t{};
        state->id = p.id;
        state->attr_string = s.attr.c_str();
        state->enabled = state->traced = p.enabled ? 1 : 0;
        state->new_probe = hndl->new_probes.count(p.id) != 0 ? 1 : 0;
        state->obj_name = p.object.c_str();
        state->provider = p.provider.c_str();
        state->name = p.name.c_str();
        state->address = p.addresses.empty() ? 0 : static_cast<uintptr_t>(p.addresses[0]);
        state->nsites = p.addresses.size();
        state->semaphore = static_cast<uintptr_t>(p.semaphore);
        state->semaphore_count = count;
        state->nargs = static_cast<int>(p.args.size());
        state->arg_types = s.type_ptrs.empty() ? nullptr : s.type_ptrs.data();
        return TNFCTL_ERR_NONE;
    });
}

tnfctl_errcode_t tnfctl_probe_enable(tnfctl_handle_t* hndl, tnfctl_probe_t* probe_hndl,
                                     void* /*ignored*/)
{
    if (!valid_probe(hndl, probe_hndl))
        return TNFCTL_ERR_INVALIDPROBE;
    return guarded([&] {
        hndl->ctl->enable(probe_hndl->id);
        return TNFCTL_ERR_NONE;
    });
}

tnfctl_errcode_t tnfctl_probe_disable(tnfctl_handle_t* hndl, tnfctl_probe_t* probe_hndl,
                                      void* /*ignored*/)
{
    if (!valid_probe(hndl, probe_hndl))
        return TNFCTL_ERR_INVALIDPROBE;
    return guarded([&] {
        hndl->ctl->disable(probe_hndl->id);
        return TNFCTL_ERR_NONE;
    });
}

const char* tnfctl_strerror(tnfctl_errcode_t errcode)
{
    switch (errcode) {
    case TNFCTL_ERR_NONE:
        return "Success";
    case TNFCTL_ERR_ACCES:
        return "Permission denied";
    case TNFCTL_ERR_NOTARGET:
        return "Target process finished";
    case TNFCTL_ERR_ALLOCFAIL:
        return "Memory allocation failed";
    case TNFCTL_ERR_INTERNAL:
        return "Internal error";
    case TNFCTL_ERR_BADARG:
        return "Bad input argument";
    case TNFCTL_ERR_NOLIBTNFPROBE:
        return "No USDT probes in the target";
    case TNFCTL_ERR_NOPROCESS:
        return "No such process";
    case TNFCTL_ERR_BUSY:
        return "Device busy";
    case TNFCTL_ERR_INVALIDPROBE:
        return "Probe no longer valid";
    case TNFCTL_ERR_USR1:
    case TNFCTL_ERR_USR2:
    case TNFCTL_ERR_USR3:
    case TNFCTL_ERR_USR4:
    case TNFCTL_ERR_USR5:
        return "User error";
    default:
        return "Unknown error";
    }
}

const char* tnfctl_errmsg(void)
{
    return t_errmsg.c_str();
}

tnfctl_errcode_t tnfctl_hit_callback_set(tnfctl_handle_t* hndl, tnfctl_hit_f* fn, void* arg)
{
    if (hndl == nullptr)
        return TNFCTL_ERR_BADARG;
    return guarded([&] {
        hndl->hit_fn = fn;
        hndl->hit_arg = arg;
        if (fn == nullptr) {
            hndl->ctl->on_hit({});
            return TNFCTL_ERR_NONE;
        }
        hndl->ctl->on_hit([hndl](const pctx::ProbeHit& hit) {
            tnfctl_hit_t c{};
            c.probe_id = hit.id;
            c.provider = hit.probe->provider.c_str();
            c.name = hit.probe->name.c_str();
            c.pid = hit.pid;
            c.tid = hit.tid;
            c.time_ns = hit.time_ns;
            c.nargs = static_cast<int>(hit.args.size());
            for (std::size_t i = 0; i < hit.args.size() && i < TNFCTL_MAX_ARGS; ++i) {
                c.args[i] = hit.args[i].value;
                c.arg_signed[i] = hit.args[i].is_signed ? 1 : 0;
            }
            hndl->hit_fn(hndl->hit_arg, &c);
        });
        return TNFCTL_ERR_NONE;
    });
}

tnfctl_errcode_t tnfctl_poll(tnfctl_handle_t* hndl, int timeout_ms, int* delivered)
{
    if (hndl == nullptr)
        return TNFCTL_ERR_BADARG;
    return guarded([&] {
        const int n = hndl->ctl->poll(timeout_ms);
        if (delivered != nullptr)
            *delivered = n;
        return TNFCTL_ERR_NONE;
    });
}

int tnfctl_hits_fd(tnfctl_handle_t* hndl)
{
    return hndl != nullptr ? hndl->ctl->hits_fd() : -1;
}

uint64_t tnfctl_lost(tnfctl_handle_t* hndl)
{
    return hndl != nullptr ? hndl->ctl->lost() : 0;
}

} // extern "C"
