#include "convex_importd/signup_request.hpp"

#include <array>

namespace convex_importd {

void append_json_string(std::string& out, std::string_view text) {
    constexpr std::array<char, 16> hex{'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    out.push_back('"');
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (byte < 0x20) {
            out.append("\\u00");
            out.push_back(hex[byte >> 4]);
            out.push_back(hex[byte & 0xF]);
        } else {
            out.push_back(c);
        }
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
