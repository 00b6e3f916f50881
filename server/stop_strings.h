// Stop strings (OpenAI's `stop`, Ollama's options.stop) over streamed text. Text that could be
// the start of a stop string is held back until the next piece decides it, so a client never
// sees any part of a stop string; the text before a match is released and generation ends.
//
//   StopStrings stop({"\nUser:"});
//   auto r = stop.push("Hi.\nUs");   // r.text == "Hi.", r.matched == false ("\nUs" held back)
//   r = stop.push("er: x");          // r.text == "",    r.matched == true
//   stop.flush();                    // the held-back text, when generation ended otherwise
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ember::server {

class StopStrings {
public:
    explicit StopStrings(std::vector<std::string> stops);

    struct Out {
        std::string text;      // safe to send
        bool matched = false;  // a stop string was found: send `text`, then end
    };
    Out push(std::string_view piece);
    std::string flush();  // the held-back text (no stop string followed)
    bool empty() const { return stops_.empty(); }

private:
    std::vector<std::string> stops_;
    std::string held_;
};

}  // namespace ember::server
