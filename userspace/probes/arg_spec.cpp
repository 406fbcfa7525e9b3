// Parses <sys/sdt.h> argument specs the way libbpf 1.1's usdt.c reads them,
// so a spec accepted here is one the BPF side can decode.
#include "probes/arg_spec.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace pctx::detail {

namespace {

constexpr std::size_t kMaxArgs = 12; // libbpf's BPF_USDT_MAX_ARG_CNT

bool parse_int(std::string_view text, std::int64_t& value)
{
    if (text.empty() || text.size() > 40)
        return false;
    const std::string copy(text);
    char* end = nullptr;
    errno = 0;
    // Base 0: sdt.h writes decimal, but hand-written notes use 0x.. too.
    const long long v = std::strtoll(copy.c_str(), &end, 0);
    if (errno != 0 || end != copy.c_str() + copy.size())
        return false;
    value = v;
    return true;
}

bool is_register_name(std::string_view name)
{
    if (name.empty() || name.size() > 8)
        return false;
    for (const char c : name)
        if (std::isalnum(static_cast<unsigned char>(c)) == 0)
            return false;
    return name != "rip" && name != "eip";
}

std::string bad(std::string_view spec, const char* why)
{
    return "argument spec '" + std::string(spec) + "': " + why;
}

// One "N@OPERAND"; an error message when it is not one libbpf reads.
std::variant<ArgSpec, std::string> parse_one(std::string_view spec)
{
    ArgSpec arg;
    arg.text = std::string(spec);
    const auto at = spec.find('@');
    if (at == std::string_view::npos)
        return bad(spec, "no size (expected N@operand)");
    std::int64_t size = 0;
    if (!parse_int(spec.substr(0, at), size))
        return bad(spec, "size is not a number");
    arg.is_signed = size < 0;
    arg.size = static_cast<int>(size < 0 ? -size : size);
    if (arg.size != 1 && arg.size != 2 && arg.size != 4 && arg.size != 8)
        return bad(spec, "size is not 1, 2, 4 or 8");
    const std::string_view op = spec.substr(at + 1);
    if (op.empty())
        return bad(spec, "no operand");
    if (op[0] == '$') {
        arg.kind = ArgSpec::Kind::Constant;
        if (!parse_int(op.substr(1), arg.constant))
            return bad(spec, "constant is not a number");
        return arg;
    }
    if (op[0] == '%') {
        arg.kind = ArgSpec::Kind::Register;
        arg.reg = std::string(op.substr(1));
        if (!is_register_name(arg.reg))
            return bad(spec, "not a register libbpf can read");
        return arg;
    }
    const auto open = op.find('(');
    if (open == std::string_view::npos || op.back() != ')')
        return bad(spec, "operand is neither %reg, $imm nor off(%reg)");
    arg.kind = ArgSpec::Kind::Memory;
    if (open > 0 && !parse_int(op.substr(0, open), arg.offset))
        return bad(spec, "memory offset is not a number (symbolic offsets are not supported)");
    const std::string_view inner = op.substr(open + 1, op.size() - open - 2);
    if (inner.find(',') != std::string_view::npos)
        return bad(spec, "indexed memory operands need libbpf 1.7");
    if (inner.size() < 2 || inner[0] != '%')
        return bad(spec, "memory operand has no base register");
    arg.reg = std::string(inner.substr(1));
    if (!is_register_name(arg.reg))
        return bad(spec, "not a base register libbpf can read");
    return arg;
}

} // namespace

ArgSpecsOrError parse_arg_specs(std::string_view specs)
{
    std::vector<ArgSpec> args;
    std::size_t pos = 0;
    while (pos < specs.size()) {
        if (specs[pos] == ' ') {
            ++pos;
            continue;
        }
        const auto end = std::min(specs.find(' ', pos), specs.size());
        auto one = parse_one(specs.substr(pos, end - pos));
        if (auto* error = std::get_if<std::string>(&one))
            return std::move(*error);
        if (args.size() == kMaxArgs)
            return std::string("more than 12 arguments");
        args.push_back(std::move(std::get<ArgSpec>(one)));
        pos = end;
    }
    return args;
}

std::string arg_type_name(const ArgSpec& spec)
{
    return (spec.is_signed ? "int" : "uint") + std::to_string(spec.size * 8);
}

} // namespace pctx::detail
