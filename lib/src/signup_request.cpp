#include "convex_importd/signup_request.hpp"

#include <algorithm>
#include <array>

namespace convex_importd {

namespace {

bool needs_json_escape(char c) {
    return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
}

void append_json_escape(std::string& out, char c) {
    constexpr std::array<char, 16> hex{'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
        return;
    }
    out.append("\\u00");
    out.push_back(hex[byte >> 4]);
    out.push_back(hex[byte & 0xF]);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    // Runs of plain text are appended whole: a byte at a time cost more than the rest of
    // building the request.
    out.push_back('"');
    while (!text.empty()) {
        const auto special = std::find_if(text.begin(), text.end(), needs_json_escape);
        const auto plain = static_cast<std::size_t>(special - text.begin());
        out.append(text.substr(0, plain));
        if (special == text.end()) {
            break;
        }
        append_json_escape(out, *special);
        text.remove_prefix(plain + 1);
    }
    out.push_back('"');
}

void build_signup_body(const user_row& row, std::string& out) {
    out.clear();
    out.append(R"({"path":"auth:signIn","format":"json","args":{"provider":"password",)");
    out.append(R"("params":{"email":)");
    append_json_string(out, row.email);
    out.append(R"(,"password":)");
    append_json_string(out, row.password.view());
    for (const auto& [name, value] : row.params) {
        out.push_back(',');
        append_json_string(out, name);
        out.push_back(':');
        append_json_string(out, value);
    }
    out.append(R"(,"flow":"signUp"}}})");
}

}  // namespace convex_importd
