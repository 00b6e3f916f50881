// Generates a few greedy tokens with the public API. Usage: ember_consumer MODEL.gguf
#include <ember/ember.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
        return 2;
    }
    try {
        auto model = ember::Model::load(argv[1]);
        ember::Session session(model, {.n_ctx = 128});
        ember::GenerateParams params;
        params.n_predict = 16;
        params.sampling.temperature = 0.0f;
        const ember::GenerateResult r = session.generate("Once upon a time", params);
        std::printf("ember %s: %s\n", ember::version(), r.text.c_str());
        return r.tokens.empty() ? 1 : 0;
    } catch (const ember::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
