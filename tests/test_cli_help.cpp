// --help, the man page and `pctx-bpf list` tell the same story.
#include "pctx/pctx.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

std::string man_page()
{
    std::string path = __FILE__;
    path = path.substr(0, path.rfind('/')) + "/../docs/pctx-bpf.1";
    return clitest::slurp(path);
}

// The man page's text with roff's escapes for '-' and quotes undone.
std::string man_text()
{
    std::string s = man_page();
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"\\-", "-"}, {"\\(aq", "'"}, {"\\(dq", "\""}, {"\\&", ""}}) {
        for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
            s.replace(at, from.size(), to);
    }
    return s;
}

struct HelpOption {
    std::vector<std::string> names; // "-c", "--counters"
    std::string description;
};

// The options of `pctx-bpf run --help`: "  -c,--counters EVENTS    Description".
std::vector<HelpOption> help_options(const std::string& help)
{
    std::vector<HelpOption> opts;
    std::istringstream in(help);
    const std::regex row(R"(^  (-[-\w,]+)(?: [A-Z]+)?\s{2,}(.*)$)");
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_match(line, m, row))
            continue;
        HelpOption o;
        std::istringstream names(m[1].str());
        for (std::string n; std::getline(names, n, ',');)
            o.names.push_back(n);
        o.description = m[2].str();
        opts.push_back(o);
    }
    return opts;
}

} // namespace

TEST_CASE("CLI help: every option of --help is in the man page, in the same words", "[cli]")
{
    const auto r = clitest::run({"run", "--help"});
    CHECK(r.status == 0);
    const auto opts = help_options(r.out);
    INFO(r.out);
    REQUIRE(opts.size() >= 15);
    const std::string man = man_text();
    std::set<std::string> names;
    for (const auto& o : opts) {
        for (const auto& n : o.names) {
            INFO(n);
            names.insert(n);
            CHECK(man.find(n) != std::string::npos);
        }
        if (o.names.front() == "-h")
            continue; // CLI11's own words
        INFO(o.description);
        CHECK(man.find("\n" + o.description + "\n") != std::string::npos);
    }
    for (const char* n : {"-c", "-T", "-N", "-f", "-e", "--stop-at-exec", "-p", "-o", "-n", "-t",
                          "-v", "-q", "-h", "--format"})
        CHECK(names.count(n) == 1);
    // Both have the examples.
    for (const char* example : {"pctx-bpf run -c instructions,cycles -T 0.5 -- make -j2",
                                "pctx-bpf run -f --format chrome -o trace.json -- ./build.sh"}) {
        CHECK(r.out.find(example) != std::string::npos);
        CHECK(man.find(example) != std::string::npos);
    }
    // Help lists what this machine can count.
    for (const auto& e : pctx::list_events())
        if (e.available)
            CHECK(r.out.find(e.name) != std::string::npos);
}

TEST_CASE("CLI list: every event, software and hardware apart, marked", "[cli]")
{
    const auto r = clitest::run({"list"});
    REQUIRE(r.status == 0);
    INFO(r.out);
    const auto sw = r.out.find("software events:\n");
    const auto hw = r.out.find("hardware events:\n");
    REQUIRE(sw != std::string::npos);
    REQUIRE(hw != std::string::npos);
    for (const auto& e : pctx::list_events()) {
        INFO(e.name);
        const auto at = r.out.find("\n  " + e.name + " ");
        REQUIRE(at != std::string::npos);
        CHECK((e.kind == "software" ? (at > sw && at < hw) : at > hw));
        const std::string line = r.out.substr(at + 1, r.out.find('\n', at + 1) - at - 1);
        if (e.available) {
            CHECK(line.find(" available") != std::string::npos);
            CHECK(line.find("not available") == std::string::npos);
        } else {
            CHECK(line.find("not available") != std::string::npos);
        }
    }
    CHECK(clitest::run({"list", "extra"}).status == 2);
}
