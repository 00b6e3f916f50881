#include "server/stop_strings.h"

#include <algorithm>

namespace ember::server {

StopStrings::StopStrings(std::vector<std::string> stops) {
    for (std::string& s : stops) {
        if (!s.empty()) stops_.push_back(std::move(s));
    }
}

StopStrings::Out StopStrings::push(std::string_view piece) {
    held_ += piece;
    Out out;
    if (stops_.empty()) {
        out.text = std::move(held_);
        held_.clear();
        return out;
    }
    size_t first = std::string::npos;  // the earliest match of any stop string
    for (const std::string& s : stops_) first = std::min(first, held_.find(s));
    if (first != std::string::npos) {
        out.text = held_.substr(0, first);
        out.matched = true;
        held_.clear();
        return out;
    }
    // Hold back the longest tail that is a proper prefix of some stop string.
    size_t keep = 0;
    for (const std::string& s : stops_) {
        for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n) {
            if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
                keep = n;
                break;
            }
        }
    }
    out.text = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
}

std::string StopStrings::flush() {
    std::string rest = std::move(held_);
    held_.clear();
    return rest;
}

}  // namespace ember::server
