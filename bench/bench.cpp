// `ember bench`: the pp/tg measurement loop, its statistics, the roofline arithmetic and the
// output formats. The probes live in bench_probes.cpp.
#include "bench/bench.h"

#include "ember/engine.h"

#include "backends/cpu/kernel_levels.h"
#include "core/backend.h"
#include "core/error.h"
#include "model/runtime/model.h"
#include "ember/session.h"
#include "model/quantize/synth.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <thread>

namespace ember::bench {

// Bump when synthetic models change, so that stale cached files are not reused.
constexpr int kSynthCacheVersion = 2;

Stats mean_stddev(std::span<const double> values) {
    Stats s;
    if (values.empty()) return s;
    double sum = 0;
    for (double v : values) sum += v;
    s.mean = sum / static_cast<double>(values.size());
    if (values.size() < 2) return s;
    double sq = 0;
    for (double v : values) sq += (v - s.mean) * (v - s.mean);
    s.stddev = std::sqrt(sq / static_cast<double>(values.size() - 1));
    return s;
}

std::string TestSpec::name() const {
    if (n_prompt > 0 && n_gen > 0) return fmt::format("pp{}+tg{}", n_prompt, n_gen);
    if (n_prompt > 0) return fmt::format("pp{}", n_prompt);
    return fmt::format("tg{}", n_gen);
}

std::string BenchResult::test_name() const {
    const std::string name = TestSpec{n_prompt, n_gen}.name();
    return n_depth > 0 ? fmt::format("{} @ d{}", name, n_depth) : name;
}

double roofline(const BenchResult& r, const Probes& probes) {
    if (r.ts.mean <= 0) return 0;
    if (r.n_prompt > 0 && (probes.peak_gflops <= 0 || r.flops_per_token <= 0)) return 0;
    if (r.n_gen > 0 && (probes.bandwidth_gbs <= 0 || r.bytes_per_token <= 0)) return 0;
    // The compute peaks scale with cores: a row with fewer threads than the probe gets its share.
    double share = 1;
    if (probes.threads > 0 && r.n_threads > 0 && r.n_threads < probes.threads) share = double(r.n_threads) / probes.threads;
    const double peak = probes.peak_gflops * share;
    const double int8_flops = probes.peak_int8_gops > 0 ? r.int8_flops_per_token : 0;
    double ideal_s = 0;
    if (r.n_prompt > 0) {
        const double n = double(r.n_parallel) * r.n_prompt;
        ideal_s += n * (r.flops_per_token - int8_flops) / (peak * 1e9);
        if (int8_flops > 0) ideal_s += n * int8_flops / (probes.peak_int8_gops * share * 1e9);
    }
    if (r.n_gen > 0) ideal_s += r.n_gen * r.bytes_per_token / (probes.bandwidth_gbs * 1e9);
    const double measured_s = double(r.n_parallel) * (r.n_prompt + r.n_gen) / r.ts.mean;
    return ideal_s / measured_s;
}

namespace {

using Clock = std::chrono::steady_clock;

std::string utc_now_iso8601() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

// What one token costs the model (see roofline()):
//   bytes_per_token (tg): every matmul weight is streamed once per token; token_embd is only
//     gathered (one row), unless it is also the (tied) output matrix. Norms are counted too.
//     The KV cache (< 1% for these depths) is not.
//   flops_per_token (pp): 2 · (matmul weight elements) + attention 4 · n_layer · n_head · head_dim
//     · (n_prompt + 1) / 2 (QKᵀ and PV over the causal average depth).
//   int8_matmul_params: the matmul weights the CPU backend dots as int8 x int8 (those whose
//     vec_dot_type is Q8_0, Q8_1 or Q8_K); 0 for other backends, which may convert them.
struct ModelCost {
    double bytes_per_token = 0;
    double matmul_params = 0;
    double int8_matmul_params = 0;
};

bool dotted_as_int8(Type weight) {
    const Type act = cpu::cpu_kernels().vec_dot_type[static_cast<uint32_t>(weight)];
    return act == Type::Q8_0 || act == Type::Q8_1 || act == Type::Q8_K;
}

ModelCost model_cost(const Model& model, const std::string& backend) {
    ModelCost c;
    const gguf::File& f = model.file();
    const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
    const bool tied = f.find_tensor("output.weight") == nullptr;
    c.bytes_per_token = static_cast<double>(model.weight_bytes());
    for (const gguf::TensorInfo& t : f.tensors()) {
        if (t.n_dims < 2 || (&t == embd && !tied)) continue;
        c.matmul_params += static_cast<double>(t.n_elements());
        if (backend == "cpu" && dotted_as_int8(t.type)) c.int8_matmul_params += static_cast<double>(t.n_elements());
    }
    if (embd != nullptr && !tied) {
        c.bytes_per_token -= static_cast<double>(embd->nbytes);
        c.bytes_per_token += static_cast<double>(row_size(embd->type, embd->ne[0]));
    } else if (embd != nullptr) {
        c.bytes_per_token += static_cast<double>(row_size(embd->type, embd->ne[0]));
    }
    return c;
}

double flops_per_prompt_token(const Model& model, const ModelCost& cost, int n_prompt, int n_depth) {
    const HParams& hp = model.hparams();
    const double attn = 4.0 * hp.n_layer * hp.n_head * hp.head_dim * (n_depth + (n_prompt + 1) / 2.0);
    return 2.0 * cost.matmul_params + attn;
}

BenchResult run_test(const std::shared_ptr<const Model>& model, const std::string& backend, int n_threads,
                     const TestSpec& test, int n_parallel, int n_depth, const BenchParams& params,
                     const ModelCost& cost, const Probes& probes, const std::string& label) {
    BenchResult r;
    r.model_filename = model->path();
    r.model_type = model->description();
    r.model_size = model->weight_bytes();
    r.model_n_params = model->n_params();
    r.backend = backend;
    r.n_threads = n_threads;
    r.n_batch = params.n_batch;
    r.n_prompt = test.n_prompt;
    r.n_gen = test.n_gen;
    r.n_parallel = n_parallel;
    r.n_depth = n_depth;
    r.bytes_per_token = cost.bytes_per_token;
    r.flops_per_token = test.n_prompt > 0 ? flops_per_prompt_token(*model, cost, test.n_prompt, n_depth) : 0;
    r.int8_flops_per_token = test.n_prompt > 0 ? 2.0 * cost.int8_matmul_params : 0;
    r.bandwidth_gbs = probes.bandwidth_gbs;
    r.peak_gflops = probes.peak_gflops;
    r.peak_int8_gops = probes.peak_int8_gops;
    r.cpu_kernels = cpu::cpu_kernels().variant;
    r.test_time = utc_now_iso8601();

    const int N = r.n_parallel;
    EngineParams ep;
    ep.n_ctx = static_cast<uint32_t>(N * (r.n_depth + test.n_prompt + test.n_gen));
    ep.n_seq = static_cast<uint32_t>(N);
    ep.n_batch = params.n_batch;
    ep.n_threads = n_threads;
    ep.backend = backend;
    Engine engine(model, ep);

    // The token ids: random, BOS first where the vocab adds BOS (llama-bench's workload); every
    // sequence gets the same ids (the cost does not depend on them).
    const Vocab& vocab = model->vocab();
    const int32_t n_vocab = static_cast<int32_t>(model->hparams().n_vocab);
    std::mt19937 rng(params.seed);
    std::uniform_int_distribution<int32_t> pick(0, n_vocab - 1);
    std::vector<int32_t> depth(static_cast<size_t>(r.n_depth)), prompt(static_cast<size_t>(test.n_prompt)),
        gen(static_cast<size_t>(test.n_gen));
    for (auto* v : {&depth, &prompt, &gen}) {
        for (int32_t& t : *v) t = pick(rng);
    }
    const bool bos_first = vocab.add_bos() && vocab.bos() >= 0 && vocab.bos() < n_vocab;
    if (bos_first && !depth.empty()) depth[0] = vocab.bos();
    if (bos_first && !prompt.empty() && depth.empty()) prompt[0] = vocab.bos();
    if (bos_first && !gen.empty() && depth.empty()) gen[0] = vocab.bos();

    // `tokens` appended to every sequence at positions from `first`; logits of each one's last.
    auto all_sequences = [&](std::span<const int32_t> tokens, int first) {
        Batch b;
        for (SeqId s = 0; s < N; ++s) {
            for (size_t i = 0; i < tokens.size(); ++i) b.add(tokens[i], first + static_cast<int32_t>(i), s, i + 1 == tokens.size());
        }
        return b;
    };
    auto progress = [&](std::string_view what) {
        if (params.progress) params.progress(fmt::format("bench: {} {}: {}", label, r.test_name(), what));
    };
    auto fill_depth = [&] {
        engine.clear();
        if (!depth.empty()) engine.decode(all_sequences(depth, 0));
    };

    // Warm-up (untimed): the whole prompt, and one generated token.
    progress("warm-up");
    fill_depth();
    if (!prompt.empty()) engine.decode(all_sequences(prompt, r.n_depth));
    if (!gen.empty()) {
        fill_depth();
        engine.decode(all_sequences(std::span<const int32_t>(gen.data(), 1), r.n_depth));
    }

    for (int rep = 0; rep < params.reps; ++rep) {
        fill_depth();
        const auto t0 = Clock::now();
        if (!prompt.empty()) engine.decode(all_sequences(prompt, r.n_depth));
        for (size_t i = 0; i < gen.size(); ++i) {
            engine.decode(all_sequences(std::span<const int32_t>(gen.data() + i, 1),
                                        r.n_depth + test.n_prompt + static_cast<int>(i)));
        }
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
        const uint64_t t_ns = static_cast<uint64_t>(std::max<int64_t>(1, ns));
        r.samples_ns.push_back(t_ns);
        r.samples_ts.push_back(1e9 * N * (test.n_prompt + test.n_gen) / static_cast<double>(t_ns));
        progress(fmt::format("rep {}/{}: {:.2f} t/s", rep + 1, params.reps, r.samples_ts.back()));
    }
    std::vector<double> ns_d(r.samples_ns.begin(), r.samples_ns.end());
    r.ns = mean_stddev(ns_d);
    r.ts = mean_stddev(r.samples_ts);
    r.ts_per_seq = {r.ts.mean / N, r.ts.stddev / N};
    r.roofline = roofline(r, probes);
    return r;
}

}  // namespace

std::vector<BenchResult> run_bench(const BenchParams& params, const Probes& probes) {
    if (params.models.empty()) fail("bench: no model given");
    if (params.reps < 1) fail("bench: the repetition count must be at least 1, not {}", params.reps);
    if (params.n_batch < 1) fail("bench: the batch size must be at least 1");
    for (const std::string& b : params.backends) (void)registry().get(b);  // unknown name: a clear error
    std::vector<TestSpec> tests;
    for (int n : params.n_prompt) {
        if (n < 0) fail("bench: -p must not be negative ({})", n);
        if (n > 0) tests.push_back({n, 0});
    }
    for (int n : params.n_gen) {
        if (n < 0) fail("bench: -n must not be negative ({})", n);
        if (n > 0) tests.push_back({0, n});
    }
    for (const TestSpec& t : params.pg) {
        if (t.n_prompt < 0 || t.n_gen < 0 || t.n_prompt + t.n_gen == 0) fail("bench: bad -pg test {},{}", t.n_prompt, t.n_gen);
        tests.push_back(t);
    }
    if (tests.empty()) fail("bench: no tests (every -p and -n is 0)");
    if (params.n_parallel.empty() || params.n_depth.empty()) fail("bench: -np and -d need at least one value");
    for (int np : params.n_parallel) {
        if (np < 1 || np > 64) fail("bench: -np must be 1 .. 64, not {}", np);
    }
    for (int d : params.n_depth) {
        if (d < 0) fail("bench: -d must not be negative ({})", d);
    }
    std::vector<int> threads;
    for (int t : params.threads) {
        if (t < 0) fail("bench: thread count must not be negative ({})", t);
        threads.push_back(t == 0 ? hardware_threads() : t);
    }
    if (threads.empty()) threads.push_back(hardware_threads());

    std::vector<BenchResult> rows;
    for (const std::string& path : params.models) {
        if (params.progress) params.progress(fmt::format("bench: loading {}", path));
        const std::shared_ptr<const Model> model = Model::load(path);
        for (const std::string& backend : params.backends) {
            const ModelCost cost = model_cost(*model, backend);
            for (int nt : threads) {
                const std::string label = fmt::format("{}, {}, {} threads,", model->description(), backend, nt);
                for (int np : params.n_parallel) {
                    for (int d : params.n_depth) {
                        for (const TestSpec& test : tests) {
                            const std::string l = np > 1 ? fmt::format("{} {} sequences,", label, np) : label;
                            rows.push_back(run_test(model, backend, nt, test, np, d, params, cost, probes, l));
                        }
                    }
                }
            }
        }
    }
    return rows;
}

// ---- output ------------------------------------------------------------------------------

namespace {

std::string size_text(uint64_t bytes) {
    const double b = static_cast<double>(bytes);
    if (b >= 1024.0 * 1024.0 * 1024.0) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024.0 * 1024.0));
    return fmt::format("{:.2f} MiB", b / (1024.0 * 1024.0));
}

std::string params_text(uint64_t n) {
    const double x = static_cast<double>(n);
    if (x >= 1e9) return fmt::format("{:.2f} B", x / 1e9);
    return fmt::format("{:.2f} M", x / 1e6);
}

std::string backend_display(const std::string& name) {
    if (name == "cpu") return "CPU";
    if (name == "blas") return "BLAS";
    if (name == "vulkan") return "Vulkan";
    return name;
}

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += fmt::format("\\u{:04x}", c);
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
    return out;
}

std::string num(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "0"; }

// One result's fields, in output order: name, JSON text, CSV text.
struct Field {
    std::string name;
    std::string json;
    std::string csv;
};

std::string csv_quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + '"';
}

std::vector<Field> fields(const BenchResult& r) {
    std::vector<Field> f;
    auto str = [&](const char* name, const std::string& v) { f.push_back({name, json_escape(v), csv_quote(v)}); };
    auto val = [&](const char* name, const std::string& v) { f.push_back({name, v, v}); };
    std::string ns_json = "[", ns_csv, ts_json = "[", ts_csv;
    for (size_t i = 0; i < r.samples_ns.size(); ++i) {
        ns_json += (i ? ", " : "") + fmt::format("{}", r.samples_ns[i]);
        ns_csv += (i ? ";" : "") + fmt::format("{}", r.samples_ns[i]);
        ts_json += (i ? ", " : "") + num(r.samples_ts[i]);
        ts_csv += (i ? ";" : "") + num(r.samples_ts[i]);
    }
    str("model_filename", r.model_filename);
    str("model_type", r.model_type);
    val("model_size", fmt::format("{}", r.model_size));
    val("model_n_params", fmt::format("{}", r.model_n_params));
    str("backends", backend_display(r.backend));
    val("n_batch", fmt::format("{}", r.n_batch));
    val("n_threads", fmt::format("{}", r.n_threads));
    val("n_prompt", fmt::format("{}", r.n_prompt));
    val("n_gen", fmt::format("{}", r.n_gen));
    val("n_depth", fmt::format("{}", r.n_depth));
    val("n_parallel", fmt::format("{}", r.n_parallel));
    str("test_time", r.test_time);
    val("avg_ns", fmt::format("{}", static_cast<uint64_t>(std::llround(r.ns.mean))));
    val("stddev_ns", fmt::format("{}", static_cast<uint64_t>(std::llround(r.ns.stddev))));
    val("avg_ts", num(r.ts.mean));
    val("stddev_ts", num(r.ts.stddev));
    val("avg_ts_per_seq", num(r.ts_per_seq.mean));
    val("stddev_ts_per_seq", num(r.ts_per_seq.stddev));
    f.push_back({"samples_ns", ns_json + "]", csv_quote(ns_csv)});
    f.push_back({"samples_ts", ts_json + "]", csv_quote(ts_csv)});
    str("cpu_kernels", r.cpu_kernels);
    val("roofline", num(r.roofline));
    val("bandwidth_gbs", num(r.bandwidth_gbs));
    val("peak_gflops", num(r.peak_gflops));
    val("peak_int8_gops", num(r.peak_int8_gops));
    val("bytes_per_token", num(r.bytes_per_token));
    val("flops_per_token", num(r.flops_per_token));
    return f;
}

std::string json_object(const BenchResult& r, bool pretty) {
    std::string out = "{";
    bool first = true;
    for (const Field& f : fields(r)) {
        out += first ? "" : ",";
        out += pretty ? "\n    " : (first ? "" : " ");
        out += json_escape(f.name) + ": " + f.json;
        first = false;
    }
    out += pretty ? "\n  }" : "}";
    return out;
}

}  // namespace

std::string format_markdown(std::span<const BenchResult> rows) {
    const bool show_batch = std::any_of(rows.begin(), rows.end(), [](const BenchResult& r) { return r.n_batch != 2048; });
    std::vector<std::string> head = {"model", "size", "params", "backend", "threads"};
    std::vector<bool> right = {false, true, true, false, true};
    if (show_batch) {
        head.push_back("n_batch");
        right.push_back(true);
    }
    const bool show_np = std::any_of(rows.begin(), rows.end(), [](const BenchResult& r) { return r.n_parallel != 1; });
    if (show_np) {
        head.push_back("np");
        right.push_back(true);
    }
    for (const char* h : {"test", "t/s", "roofline"}) head.push_back(h);
    right.insert(right.end(), {true, true, true});
    if (show_np) {
        head.push_back("t/s per seq");
        right.push_back(true);
    }

    std::vector<std::vector<std::string>> cells;
    for (const BenchResult& r : rows) {
        std::vector<std::string> c = {r.model_type, size_text(r.model_size), params_text(r.model_n_params),
                                      backend_display(r.backend), fmt::format("{}", r.n_threads)};
        if (show_batch) c.push_back(fmt::format("{}", r.n_batch));
        if (show_np) c.push_back(fmt::format("{}", r.n_parallel));
        c.push_back(r.test_name());
        c.push_back(fmt::format("{:.2f} ± {:.2f}", r.ts.mean, r.ts.stddev));
        c.push_back(r.roofline > 0 ? fmt::format("{:.1f}%", 100.0 * r.roofline) : "-");
        if (show_np) c.push_back(fmt::format("{:.2f} ± {:.2f}", r.ts_per_seq.mean, r.ts_per_seq.stddev));
        cells.push_back(std::move(c));
    }
    // Column widths in characters ("±" is one character, two bytes).
    auto width = [](const std::string& s) {
        size_t w = 0;
        for (unsigned char c : s) w += (c & 0xC0) != 0x80;
        return w;
    };
    std::vector<size_t> w(head.size());
    for (size_t i = 0; i < head.size(); ++i) {
        w[i] = std::max<size_t>(width(head[i]), 3);
        for (const auto& c : cells) w[i] = std::max(w[i], width(c[i]));
    }
    auto line = [&](const std::vector<std::string>& c) {
        std::string out = "|";
        for (size_t i = 0; i < c.size(); ++i) {
            const std::string padding(w[i] - width(c[i]), ' ');
            out += " " + (right[i] ? padding + c[i] : c[i] + padding) + " |";
        }
        return out + "\n";
    };
    std::string out = line(head) + "|";
    for (size_t i = 0; i < head.size(); ++i) {
        out += " " + std::string(w[i] - (right[i] ? 1 : 0), '-') + (right[i] ? ":" : "") + " |";
    }
    out += "\n";
    for (const auto& c : cells) out += line(c);
    return out;
}

std::string format_csv(std::span<const BenchResult> rows) {
    std::string out;
    if (rows.empty()) return out;
    bool first = true;
    for (const Field& f : fields(rows[0])) {
        out += (first ? "" : ",") + f.name;
        first = false;
    }
    out += "\n";
    for (const BenchResult& r : rows) {
        first = true;
        for (const Field& f : fields(r)) {
            out += (first ? "" : ",") + f.csv;
            first = false;
        }
        out += "\n";
    }
    return out;
}

std::string format_json(std::span<const BenchResult> rows) {
    std::string out = "[";
    for (size_t i = 0; i < rows.size(); ++i) out += (i ? ",\n  " : "\n  ") + json_object(rows[i], true);
    out += rows.empty() ? "]\n" : "\n]\n";
    return out;
}

std::string format_jsonl(std::span<const BenchResult> rows) {
    std::string out;
    for (const BenchResult& r : rows) out += json_object(r, false) + "\n";
    return out;
}

std::string format_results(std::string_view format, std::span<const BenchResult> rows) {
    if (format == "md") return format_markdown(rows);
    if (format == "csv") return format_csv(rows);
    if (format == "json") return format_json(rows);
    if (format == "jsonl") return format_jsonl(rows);
    fail("unknown output format '{}' (md, csv, json or jsonl)", format);
}

// ---- synthetic models ------------------------------------------------------------------------

std::string first_existing_path(std::span<const std::string> candidates, std::string_view what) {
    std::string tried;
    for (const std::string& c : candidates) {
        if (!c.empty() && std::filesystem::exists(c)) return c;
        tried += tried.empty() ? c : " and " + c;
    }
    fail("{} not found (looked in {})", what, tried);
}

std::string cached_synthetic_model(const std::string& shape, const std::string& type, const std::string& vocab_path,
                                   const std::function<void(std::string_view line)>& log,
                                   const SynthProgressFn& write_progress) {
    const SynthShape& s = synth_shape(shape);
    const SynthFileType& ft = synth_file_type(type);
    const char* tmpdir = std::getenv("TMPDIR");
    const std::filesystem::path dir = (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
    const std::string path = (dir / fmt::format("ember-synth-{}-{}-v{}.gguf", s.name, ft.name, kSynthCacheVersion)).string();
    if (std::filesystem::exists(path)) {
        try {
            const auto model = Model::load(path);
            if (model->file().get_string_opt("general.name") == "synthetic " + s.name) {
                if (log) log(fmt::format("bench: using the cached synthetic model {}", path));
                return path;
            }
        } catch (const Error& e) {
            if (log) log(fmt::format("bench: rebuilding the cached synthetic model: {}", e.what()));
        }
    }
    if (log) log(fmt::format("bench: writing synthetic model {} ({} {})", path, s.name, ft.name));
    SynthParams p;
    p.shape = s.name;
    p.type = ft.name;
    p.vocab_path = vocab_path;
    p.progress = write_progress;
    write_synthetic_model(path, p);
    return path;
}

}  // namespace ember::bench
