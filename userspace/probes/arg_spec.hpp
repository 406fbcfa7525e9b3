// One USDT argument spec ("-4@-20(%rbp)"), as <sys/sdt.h> writes it for
// x86-64: size and signedness, then a register, a memory operand or a constant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pctx::detail {

struct ArgSpec {
    enum class Kind { Register, Memory, Constant };
    int size = 8; // bytes: 1, 2, 4 or 8
    bool is_signed = false;
    Kind kind = Kind::Register;
    std::string reg;           // without '%'; Register and Memory
    std::int64_t offset = 0;   // Memory: displacement
    std::int64_t constant = 0; // Constant: the value
    std::string text;          // the spec as written
};

// The specs of one note, or the reason they cannot be used (a message that
// quotes the offending spec). Only what libbpf 1.1 can read is accepted: no
// indexed ("-96(%rbp,%rax,8)") or %rip-relative memory operands.
using ArgSpecsOrError = std::variant<std::vector<ArgSpec>, std::string>;
ArgSpecsOrError parse_arg_specs(std::string_view specs);

// "int32", "uint8", ...: the type a spec describes.
std::string arg_type_name(const ArgSpec& spec);

} // namespace pctx::detail
