#include "tools/cli/json.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tools/limits.h"

namespace lockmesh::cli {
namespace {

class Parser {
 public:
  explicit Parser(absl::string_view text) : s_(text) {}

  absl::StatusOr<Json> Document() {
    Json v;
    SkipSpace();
    if (!Value(v, 0)) return Error();
    SkipSpace();
    if (pos_ != s_.size()) {
      problem_ = "text after the value";
      return Error();
    }
    return v;
  }

 private:
  absl::Status Error() const {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON at byte ", pos_, ": ", problem_));
  }
  bool Fail(const char* problem) {
    problem_ = problem;
    return false;
  }
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(absl::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return Fail("unknown literal");
    pos_ += word.size();
    return true;
  }

  bool Value(Json& v, int depth) {
    if (depth > tools::kCliJsonDepthMax) return Fail("nested too deep");
    if (pos_ >= s_.size()) return Fail("unexpected end");
    switch (s_[pos_]) {
      case '{':
        return Object(v, depth);
      case '[':
        return Array(v, depth);
      case '"':
        v.kind = Json::Kind::kString;
        return String(v.text);
      case 't':
        v.kind = Json::Kind::kBool;
        v.boolean = true;
        return Literal("true");
      case 'f':
        v.kind = Json::Kind::kBool;
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        v.kind = Json::Kind::kNumber;
        return Number(v.text);
    }
  }

  bool Object(Json& v, int depth) {
    v.kind = Json::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, true;
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Fail("expected a member name");
      std::string key;
      if (!String(key)) return false;
      if (v.Find(key) != nullptr) return Fail("duplicate member name");
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      SkipSpace();
      Json member;
      if (!Value(member, depth + 1)) return false;
      v.keys.push_back(std::move(key));
      v.items.push_back(std::move(member));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, true;
      return Fail("expected ',' or '}'");
    }
  }

  bool Array(Json& v, int depth) {
    v.kind = Json::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, true;
    while (true) {
      SkipSpace();
      Json element;
      if (!Value(element, depth + 1)) return false;
      v.items.push_back(std::move(element));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, true;
      return Fail("expected ',' or ']'");
    }
  }

  bool Digits() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  bool Number(std::string& out) {
    const std::size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (!Digits()) {
      return Fail("expected a value");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!Digits()) return Fail("expected digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!Digits()) return Fail("expected digits in the exponent");
    }
    out.assign(s_.data() + start, pos_ - start);
    return true;
  }

  bool Hex4(uint32_t& out) {
    if (pos_ + 4 > s_.size()) return Fail("short \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        out |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        out |= c - 'A' + 10;
      } else {
        return Fail("bad hex digit in \\u escape");
      }
    }
    return true;
  }

  static void Utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool Escape(std::string& out) {
    if (pos_ >= s_.size()) return Fail("unterminated string");
    const char c = s_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += c;
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u': {
        uint32_t cp = 0;
        if (!Hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("lone low surrogate");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low = 0;
          if (s_.substr(pos_, 2) != "\\u") return Fail("high surrogate without its pair");
          pos_ += 2;
          if (!Hex4(low)) return false;
          if (low < 0xDC00 || low > 0xDFFF) return Fail("high surrogate without its pair");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        Utf8(cp, out);
        return true;
      }
      default:
        return Fail("unknown escape");
    }
  }

  bool String(std::string& out) {
    ++pos_;  // the opening quote
    while (true) {
      if (pos_ >= s_.size()) return Fail("unterminated string");
      const char c = s_[pos_];
      if (c == '"') return ++pos_, true;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in a string");
      ++pos_;
      if (c == '\\') {
        if (!Escape(out)) return false;
      } else {
        out += c;
      }
    }
  }

  absl::string_view s_;
  std::size_t pos_ = 0;
  const char* problem_ = "";
};

bool PlainInteger(const std::string& text) {
  return !text.empty() && text.find_first_of(".eE") == std::string::npos;
}

}  // namespace

const Json* Json::Find(absl::string_view name) const {
  if (kind != Kind::kObject) return nullptr;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == name) return &items[i];
  }
  return nullptr;
}

bool Json::AsUint64(uint64_t* out) const {
  return kind == Kind::kNumber && PlainInteger(text) && text[0] != '-' &&
         absl::SimpleAtoi(text, out);
}

bool Json::AsInt64(int64_t* out) const {
  return kind == Kind::kNumber && PlainInteger(text) && absl::SimpleAtoi(text, out);
}

std::string Json::Cell() const {
  switch (kind) {
    case Kind::kNull:
      return "-";
    case Kind::kString:
      return text;
    default:
      return JsonText(*this);
  }
}

absl::StatusOr<Json> ParseJson(absl::string_view text) { return Parser(text).Document(); }

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonText(const Json& value) {
  switch (value.kind) {
    case Json::Kind::kNull:
      return "null";
    case Json::Kind::kBool:
      return value.boolean ? "true" : "false";
    case Json::Kind::kNumber:
      return value.text;
    case Json::Kind::kString:
      return JsonQuote(value.text);
    case Json::Kind::kArray: {
      std::string out = "[";
      for (std::size_t i = 0; i < value.items.size(); ++i) {
        absl::StrAppend(&out, i ? "," : "", JsonText(value.items[i]));
      }
      return out + "]";
    }
    case Json::Kind::kObject: {
      std::string out = "{";
      for (std::size_t i = 0; i < value.items.size(); ++i) {
        absl::StrAppend(&out, i ? "," : "", JsonQuote(value.keys[i]), ":",
                        JsonText(value.items[i]));
      }
      return out + "}";
    }
  }
  return "null";
}

}  // namespace lockmesh::cli
