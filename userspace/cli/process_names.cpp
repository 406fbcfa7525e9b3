#include "cli/process_names.hpp"

#include "pctx/pctx.hpp"

#include <fstream>
#include <iterator>

namespace pctx::cli {
namespace {

std::map<pid_t, pid_t>& proc_entries()
{
    static std::map<pid_t, pid_t> entries;
    return entries;
}

std::string from_proc(pid_t pid)
{
    const auto entry = proc_entries().find(pid);
    const pid_t ours = entry == proc_entries().end() ? pid : entry->second;
    const std::string dir = "/proc/" + std::to_string(ours) + "/";
    std::ifstream cmdline(dir + "cmdline", std::ios::binary);
    std::string line((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    while (!line.empty() && line.back() == '\0')
        line.pop_back();
    for (char& c : line)
        if (c == '\0')
            c = ' ';
    if (!line.empty())
        return line;
    std::ifstream comm(dir + "comm");
    std::getline(comm, line);
    return line;
}

} // namespace

void ProcessNames::proc_entry(pid_t reported, pid_t ours)
{
    proc_entries()[reported] = ours;
}

const std::string& ProcessNames::of(pid_t pid)
{
    const auto it = names_.find(pid);
    if (it != names_.end())
        return it->second;
    return names_[pid] = from_proc(pid);
}

void ProcessNames::exec(pid_t pid, const std::vector<std::string>& argv)
{
    names_[pid] = join_args(argv);
}

void ProcessNames::fork(pid_t parent, pid_t child)
{
    names_[child] = of(parent);
}

void ProcessNames::forget(pid_t pid)
{
    names_.erase(pid);
}

} // namespace pctx::cli
