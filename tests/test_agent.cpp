// The fleet agent (pctx-bpf agent, userspace/agent): series folding over
// real short-lived processes in a fresh cgroup, the exposition checked by
// promtool, and a real Prometheus server scraping it. The agent runs on its
// own thread; the tests wait on scrapes and queries, each bounded.
#include "agent/agent.hpp"
#include "agent/cgroup_label.hpp"
#include "pctx/pctx.hpp"
#include "support/as_nobody.hpp"
#include "support/oci_bundle.hpp"
#include "support/shell.hpp"
#include "support/test_support.hpp"
#include "test_cli_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

using testsupport::cgroup2_mount;

// A fresh cgroup at the root of the hierarchy: its label is "/" + name.
struct FreshCgroup {
    std::string name;
    std::string path;
    FreshCgroup()
        : name("pctx-agent-test-" + std::to_string(::getpid())), path(cgroup2_mount() + "/" + name)
    {
        ::rmdir(path.c_str());
        REQUIRE(::mkdir(path.c_str(), 0755) == 0);
    }
    ~FreshCgroup() { ::rmdir(path.c_str()); }
    FreshCgroup(const FreshCgroup&) = delete;
    FreshCgroup& operator=(const FreshCgroup&) = delete;
    std::string label() const { return "/" + name; }
};

// An agent over a cgroup, running on its own thread.
class RunningAgent {
public:
    explicit RunningAgent(const std::string& cgroup,
                          std::chrono::seconds ttl = std::chrono::seconds(600))
        : agent_([&] {
              pctx::detail::AgentSettings s;
              s.cgroup = cgroup;
              s.series_ttl = ttl;
              s.listen = "127.0.0.1:0";
              s.tick = std::chrono::milliseconds(200);
              return s;
          }())
    {
        thread_ = std::thread([this] { agent_.run(); });
    }
    ~RunningAgent()
    {
        agent_.terminate();
        thread_.join();
    }
    RunningAgent(const RunningAgent&) = delete;
    RunningAgent& operator=(const RunningAgent&) = delete;
    int port() const { return agent_.port(); }

private:
    pctx::detail::Agent agent_;
    std::thread thread_;
};

// GET path from 127.0.0.1:port: the status code and the body (HTTP/1.0,
// so the server closes when done).
std::pair<int, std::string> http_get(int port, const std::string& path)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {0, ""};
    }
    const std::string req = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
    std::string resp;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        resp.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    const auto body = resp.find("\r\n\r\n");
    int status = 0;
    std::sscanf(resp.c_str(), "HTTP/%*s %d", &status);
    return {status, body == std::string::npos ? "" : resp.substr(body + 4)};
}

// A port free now on the loopback (for a server that cannot report its own).
int free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Polls until done() holds; false after limit (a failure, not a timing).
bool eventually(const std::function<bool()>& done, std::chrono::seconds limit)
{
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
}

// The value of the sample of family whose labels include every one of want
// ("name=\"value\""), summed over the samples that match.
double sample_sum(const std::string& scrape, const std::string& family,
                  const std::vector<std::string>& want, int* matches = nullptr)
{
    double sum = 0;
    int n = 0;
    std::istringstream in(scrape);
    for (std::string line; std::getline(in, line);) {
        if (line.compare(0, family.size() + 1, family + "{") != 0)
            continue;
        const auto close = line.rfind('}');
        const std::string labels = line.substr(family.size() + 1, close - family.size() - 1);
        bool all = true;
        for (const auto& w : want)
            all = all && labels.find(w) != std::string::npos;
        if (!all)
            continue;
        sum += std::stod(line.substr(close + 2));
        ++n;
    }
    if (matches)
        *matches = n;
    return sum;
}

// Runs spawn_many N agent_burn in cgroup (moved there before its exec), each
// agent_burn burning burn_ms of CPU; returns the workload's own rusage.
rusage run_workload(const std::string& cgroup, int n, int burn_ms)
{
    const std::string spawner = testsupport::target("spawn_many");
    const std::string burner = testsupport::target("agent_burn");
    const std::string count = std::to_string(n);
    const std::string burn = std::to_string(burn_ms);
    const std::string procs = cgroup + "/cgroup.procs";
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        FILE* f = std::fopen(procs.c_str(), "w");
        if (!f || std::fprintf(f, "%d\n", ::getpid()) < 0 || std::fclose(f) != 0)
            ::_exit(126);
        ::setenv("AGENT_BURN_MS", burn.c_str(), 1);
        ::execl(spawner.c_str(), spawner.c_str(), count.c_str(), burner.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    rusage ru{};
    REQUIRE(::wait4(pid, &status, 0, &ru) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return ru;
}

double cpu_seconds(const rusage& ru)
{
    const auto s = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return s(ru.ru_utime) + s(ru.ru_stime);
}

std::string url_encoded(const std::string& s)
{
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", c);
            out += hex;
        }
    }
    return out;
}

// The port a started `pctx-bpf agent` says it serves on, once it does.
int serving_port(clitest::Tracer& agent)
{
    const auto line = agent.read_line();
    REQUIRE(line);
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/metrics)")));
    return std::stoi(m[1].str());
}

} // namespace

TEST_CASE("agent: container ids are parsed from docker, containerd, cri-o and podman cgroup paths",
          "[agent]")
{
    const std::string id(64, 'a');
    const std::string other = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    using pctx::detail::container_id_of;
    CHECK(container_id_of("/system.slice/docker-" + id + ".scope") == id);
    CHECK(container_id_of("/docker/" + id) == id);
    CHECK(container_id_of("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/"
                          "cri-containerd-" +
                          id + ".scope") == id);
    CHECK(container_id_of("/kubepods/besteffort/pod1234/" + id) == id);
    CHECK(container_id_of("/kubepods.slice/kubepods-pod1.slice/crio-" + other + ".scope") == other);
    CHECK(container_id_of("/machine.slice/libpod-" + other + ".scope") == other);
    CHECK(container_id_of("/machine.slice/libpod-conmon-" + other + ".scope") == other);
    CHECK(container_id_of("/user.slice/user-0.slice/session-1.scope").empty());
    CHECK(container_id_of("/").empty());
    CHECK(container_id_of("/docker/" + id.substr(1)).empty()); // 63 digits: no id
    CHECK(pctx::detail::comm_from_argv0("/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus") == "cc1plus");
    CHECK(pctx::detail::comm_from_argv0("a_program_name_longer_than_15") == "a_program_name_");
}

TEST_CASE("agent: every option of agent --help is in the man page, in the same words", "[agent]")
{
    const auto r = clitest::run({"agent", "--help"});
    CHECK(r.status == 0);
    std::string man = clitest::slurp(std::string(PCTX_SOURCE_DIR) + "/docs/pctx-bpf.1");
    for (auto at = man.find("\\-"); at != std::string::npos; at = man.find("\\-", at))
        man.replace(at, 2, "-");
    std::istringstream in(r.out);
    const std::regex row(R"(^  (-[-\w,]+)(?: [A-Z:]+)?\s{2,}(.*)$)");
    int options = 0;
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_match(line, m, row) || m[1].str() == "-h,--help")
            continue;
        ++options;
        std::istringstream names(m[1].str());
        for (std::string n; std::getline(names, n, ',');) {
            INFO(n);
            CHECK(man.find(n) != std::string::npos);
        }
        INFO(m[2].str());
        CHECK(man.find("\n" + m[2].str() + "\n") != std::string::npos);
    }
    CHECK(options == 6);
}

TEST_CASE("agent: 500 short-lived processes of one comm fold into one series of their sum, "
          "and promtool accepts the scrape",
          "[agent][bpf][hostonly]")
{
    FreshCgroup cg;
    RunningAgent agent(cg.path);
    run_workload(cg.path, 500, 0);

    const std::vector<std::string> burner{"cgroup=\"" + cg.label() + "\"", "comm=\"agent_burn\""};
    std::string scrape;
    const bool folded = eventually(
        [&] {
            scrape = http_get(agent.port(), "/metrics").second;
            return sample_sum(scrape, "pctx_exits_total", burner) >= 500;
        },
        std::chrono::seconds(60));
    INFO(scrape.substr(0, 4000));
    REQUIRE(folded);
    int series = 0;
    CHECK(sample_sum(scrape, "pctx_execs_total", burner, &series) == 500);
    CHECK(series == 1);
    CHECK(sample_sum(scrape, "pctx_exits_total", {burner[0], burner[1], "status=\"0\""}) == 500);
    CHECK(sample_sum(scrape, "pctx_execs_total", {burner[0], "comm=\"spawn_many\""}) == 1);
    CHECK(sample_sum(scrape, "pctx_forks_total", {burner[0], "comm=\"spawn_many\""}) == 500);
    // Every process has ended: none is tracked any more.
    CHECK(sample_sum(scrape + "\n", "pctx_tracked_processes", {}) == 0);

    // Every family the Grafana dashboard queries is one the agent exports.
    const std::string dashboard =
        clitest::slurp(std::string(PCTX_SOURCE_DIR) + "/deploy/grafana/pctx.json");
    const std::regex family_name(R"((pctx_[a-z_]+|process_resident_memory_bytes))");
    int queried = 0;
    for (std::sregex_iterator it(dashboard.begin(), dashboard.end(), family_name), end; it != end;
         ++it, ++queried) {
        INFO(it->str());
        CHECK(scrape.find("# TYPE " + it->str() + " ") != std::string::npos);
    }
    CHECK(queried >= 8);

    // promtool reads the exposition from its stdin.
    const std::string file = "/tmp/pctx-agent-scrape-" + std::to_string(::getpid()) + ".txt";
    {
        std::ofstream out(file);
        out << scrape;
    }
    const auto [status, out] = testsupport::shell("promtool check metrics < " + file + " 2>&1");
    ::unlink(file.c_str());
    INFO(out);
    CHECK(status == 0);
}

TEST_CASE("agent: a real Prometheus server scraping it finds the workload's execs and CPU time",
          "[agent][bpf][hostonly]")
{
    FreshCgroup cg;
    RunningAgent agent(cg.path);

    char dir_template[] = "/tmp/pctx-agent-prom-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    {
        std::ofstream config(dir + "/prometheus.yml");
        config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
               << "scrape_configs:\n  - job_name: pctx\n    static_configs:\n"
               << "      - targets: ['127.0.0.1:" << agent.port() << "']\n";
    }
    const int port = free_port();
    {
        testsupport::Child prometheus(
            {"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
             "--storage.tsdb.path=" + dir + "/data",
             "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"});
        REQUIRE(eventually([&] { return http_get(port, "/-/ready").first == 200; },
                           std::chrono::seconds(60)));

        constexpr int kChildren = 20;
        const rusage ru = run_workload(cg.path, kChildren, 100);
        const double cpu = cpu_seconds(ru);
        REQUIRE(cpu > 1.0);

        const auto query = [&](const std::string& promql) -> std::optional<double> {
            const auto [status, body] =
                http_get(port, "/api/v1/query?query=" + url_encoded(promql));
            if (status != 200)
                return std::nullopt;
            const auto json = nlohmann::json::parse(body, nullptr, false);
            if (json.is_discarded() || json["data"]["result"].empty())
                return std::nullopt;
            return std::stod(json["data"]["result"][0]["value"][1].get<std::string>());
        };
        const std::string in_cg = "{cgroup=\"" + cg.label() + "\"}";
        std::optional<double> execs;
        std::optional<double> exits;
        REQUIRE(eventually(
            [&] {
                // Two queries, each of its own scrape: both must see the end.
                execs = query("sum(pctx_execs_total" + in_cg + ")");
                exits = query("sum(pctx_exits_total" + in_cg + ")");
                return execs && exits && *exits >= kChildren + 1;
            },
            std::chrono::seconds(60)));
        // spawn_many's own exec and its children's.
        REQUIRE(execs);
        CHECK(*execs == kChildren + 1);
        const auto seconds = query("sum(pctx_cpu_seconds_total" + in_cg + ")");
        REQUIRE(seconds);
        INFO("Prometheus: " << *seconds << " s; getrusage: " << cpu << " s");
        CHECK(*seconds == Approx(cpu).epsilon(0.05));

        // Every query of the Grafana dashboard, with its variables as Grafana
        // fills them for all nodes, runs in this Prometheus and finds data;
        // the container panel's too once no container is asked for (the
        // workload ran in a plain cgroup).
        const auto dashboard = nlohmann::json::parse(
            clitest::slurp(std::string(PCTX_SOURCE_DIR) + "/deploy/grafana/pctx.json"));
        std::vector<std::string> exprs;
        for (const auto& panel : dashboard["panels"])
            for (const auto& t : panel.value("targets", nlohmann::json::array()))
                exprs.push_back(t["expr"].get<std::string>());
        CHECK(exprs.size() >= 8);
        const auto filled = [](std::string e) {
            for (const auto& [var, value] : {std::pair<std::string, std::string>{"$instance", ".+"},
                                             {"$__rate_interval", "30s"},
                                             {"container_id!=\"\"", "container_id=\"\""}})
                for (std::size_t at; (at = e.find(var)) != std::string::npos;)
                    e.replace(at, var.size(), value);
            return e;
        };
        for (const auto& e : exprs) {
            INFO(filled(e));
            CHECK(
                eventually([&] { return query(filled(e)).has_value(); }, std::chrono::seconds(30)));
        }
    }
    testsupport::shell("rm -rf " + dir);
}

TEST_CASE("agent: a series idle past --series-ttl is dropped once its processes are gone",
          "[agent][bpf][hostonly]")
{
    FreshCgroup cg;
    RunningAgent agent(cg.path, std::chrono::seconds(1));
    run_workload(cg.path, 3, 0);
    const std::vector<std::string> burner{"cgroup=\"" + cg.label() + "\"", "comm=\"agent_burn\""};
    std::string scrape;
    REQUIRE(eventually(
        [&] {
            scrape = http_get(agent.port(), "/metrics").second;
            return sample_sum(scrape, "pctx_execs_total", burner) == 3;
        },
        std::chrono::seconds(30)));
    INFO(scrape.substr(0, 4000));
    REQUIRE(eventually(
        [&] {
            scrape = http_get(agent.port(), "/metrics").second;
            int series = 0;
            sample_sum(scrape, "pctx_execs_total", {burner[0]}, &series);
            return series == 0;
        },
        std::chrono::seconds(30)));
}

TEST_CASE("pctx-bpf agent: serves until SIGTERM, ignores SIGHUP, leaves nothing attached",
          "[agent][bpf][hostonly]")
{
    FreshCgroup cg;
    clitest::Tracer agent({"agent", "--cgroup", cg.path, "--listen", "127.0.0.1:0", "-T", "1"});
    const int port = serving_port(agent);
    const auto programs = testsupport::bpf_programs_held_by(agent.pid());
    CHECK_FALSE(programs.empty());
    CHECK(http_get(port, "/metrics").first == 200);

    agent.signal(SIGHUP);
    run_workload(cg.path, 2, 0); // after SIGHUP, still tracing
    const std::vector<std::string> burner{"cgroup=\"" + cg.label() + "\"", "comm=\"agent_burn\""};
    CHECK(eventually(
        [&] {
            return sample_sum(http_get(port, "/metrics").second, "pctx_execs_total", burner) == 2;
        },
        std::chrono::seconds(30)));

    agent.signal(SIGTERM);
    const auto r = agent.finish();
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.err.find("SIGHUP ignored") != std::string::npos);
    CHECK(testsupport::bpf_programs_gone(programs));
}

namespace {

// The host pid of the process whose command line holds every one of args.
pid_t find_process(const std::vector<std::string>& args)
{
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        std::string cmdline = clitest::slurp(entry.path() / "cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        if (std::all_of(args.begin(), args.end(),
                        [&](const std::string& a) { return cmdline.find(a) != std::string::npos; }))
            return std::stoi(name);
    }
    return 0;
}

} // namespace

TEST_CASE("pctx-bpf agent: in a container as the DaemonSet runs it (CAP_BPF and CAP_PERFMON only, "
          "read-only root, host pids), it serves the node's processes and stops on SIGTERM",
          "[agent][bpf][hostonly]")
{
    // deploy/kubernetes/agent-daemonset.yaml's securityContext under crun:
    // uid 0 with every capability dropped but those two, no new privileges,
    // a read-only root, hostPID, its own mount, cgroup, ipc and uts
    // namespaces; the node's network, as the pod's port is reached here.
    FreshCgroup cg;
    const int port = free_port();
    const std::string listen = "127.0.0.1:" + std::to_string(port);
    testsupport::OciBundle bundle;
    testsupport::ContainerSpec spec;
    spec.args = {"/bin/pctx-bpf", "agent", "--listen", listen, "-T", "1"};
    spec.host_pids = true;
    auto container = std::async(std::launch::async, [&] { return bundle.run(spec); });
    bool exited = false; // early: its output says why
    const bool serving =
        eventually(
            [&] {
                exited = container.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
                return exited || http_get(port, "/metrics").second.find("pctx_tracked_processes") !=
                                     std::string::npos;
            },
            std::chrono::seconds(60)) &&
        !exited;
    const pid_t agent = find_process({"pctx-bpf", "agent", listen});
    if (!serving || agent == 0) {
        if (agent != 0)
            ::kill(agent, SIGTERM);
        const auto [status, out] = container.get();
        FAIL("the agent in the container never served (crun status " << status << "):\n" << out);
    }
    const auto programs = testsupport::bpf_programs_held_by(agent);
    CHECK_FALSE(programs.empty());
    const std::string status = clitest::slurp("/proc/" + std::to_string(agent) + "/status");
    INFO(status);
    CHECK(status.find("CapEff:\t000000c000000000\n") != std::string::npos);

    run_workload(cg.path, 7, 0); // host processes, seen through hostPID
    std::string scrape;
    CHECK(eventually(
        [&] {
            scrape = http_get(port, "/metrics").second;
            return sample_sum(scrape, "pctx_execs_total", {"comm=\"agent_burn\""}) == 7;
        },
        std::chrono::seconds(30)));
    INFO(scrape);
    ::kill(agent, SIGTERM);
    const auto [crun_status, out] = container.get();
    INFO(out);
    CHECK(crun_status == 0);
    CHECK(testsupport::bpf_programs_gone(programs));
}

TEST_CASE("pctx-bpf agent: bad options are usage errors (status 2)", "[agent]")
{
    for (const auto& args : std::vector<std::vector<std::string>>{{"agent", "-T", "0"},
                                                                  {"agent", "--series-ttl", "-1"},
                                                                  {"agent", "--listen", "nowhere"},
                                                                  {"agent", "-c", ""},
                                                                  {"agent", "-c", "no-such-event"},
                                                                  {"agent", "extra"}}) {
        const auto r = clitest::run(args);
        INFO(args.back() << ": " << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("pctx-bpf agent") != std::string::npos);
    }
}

TEST_CASE("pctx-bpf agent: runs as user nobody with only CAP_BPF and CAP_PERFMON, as the "
          "systemd unit starts it",
          "[agent][bpf][hostonly]")
{
    FreshCgroup cg;
    // Ambient capabilities pass through timeout's exec to the agent, which
    // must be serving by then and stop cleanly on timeout's SIGTERM.
    const auto [status, out] = testsupport::run_as_nobody(
        {"/usr/bin/timeout", "--preserve-status", "-s", "TERM", "5", testsupport::cli_for_nobody(),
         "agent", "--cgroup", cg.path, "--listen", "127.0.0.1:0"},
        {testsupport::kCapBpf, testsupport::kCapPerfmon});
    INFO(out);
    CHECK(status == 0);
    CHECK(out.find("serving http://127.0.0.1:") != std::string::npos);
}

namespace {

long rss_kib(pid_t pid)
{
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.compare(0, 6, "VmRSS:") == 0)
            return std::stol(line.substr(6));
    return -1;
}

} // namespace

TEST_CASE("pctx-bpf agent: 60 s of fork/exec churn leave its memory flat after warm-up",
          "[agent][bpf][hostonly][slow]")
{
    FreshCgroup cg;
    clitest::Tracer agent({"agent", "--cgroup", cg.path, "--listen", "127.0.0.1:0", "-T", "1"});
    const int port = serving_port(agent);
    const std::vector<std::string> burner{"cgroup=\"" + cg.label() + "\"", "comm=\"agent_burn\""};
    // Waits until the agent has folded every exit so far, scraping as
    // Prometheus would.
    const auto folded = [&](int exits) {
        return eventually(
            [&] {
                return sample_sum(http_get(port, "/metrics").second, "pctx_exits_total", burner) >=
                       exits;
            },
            std::chrono::seconds(60));
    };

    int spawned = 0;
    for (int i = 0; i < 4; ++i, spawned += 500)
        run_workload(cg.path, 500, 0);
    REQUIRE(folded(spawned));
    const long warm = rss_kib(agent.pid());
    REQUIRE(warm > 0);

    const auto end = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < end) {
        run_workload(cg.path, 500, 0);
        spawned += 500;
    }
    REQUIRE(folded(spawned));
    const long after = rss_kib(agent.pid());
    INFO("RSS after warm-up " << warm << " KiB, after " << spawned << " processes " << after
                              << " KiB");
    CHECK(after - warm < 1024);
    agent.signal(SIGTERM);
    CHECK(agent.finish().status == 0);
}
