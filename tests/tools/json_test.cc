// The JSON of the node's HTTP endpoints (tools/http/json.h) and the local API's request
// checks (tools/node/api_request.h): each bad input and the error it gets.
#include "tools/http/json.h"

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tools/limits.h"
#include "tools/node/api_request.h"

namespace lockmesh::tools {
namespace {

using namespace std::chrono_literals;

TEST(JsonWriterTest, EscapesQuotesBackslashesControlsAndBadUtf8) {
  JsonWriter w;
  w.BeginObject().Key("a\"b").String("x\\y\n\t\x01 é \xff").Key("n").Int(-3);
  w.Key("list").BeginArray().Uint(18446744073709551615u).Bool(true).Null().EndArray();
  w.Key("empty").BeginObject().EndObject().EndObject();
  EXPECT_EQ(std::move(w).Take(),
            "{\"a\\\"b\":\"x\\\\y\\n\\t\\u0001 é \xEF\xBF\xBD\",\"n\":-3,"
            "\"list\":[18446744073709551615,true,null],\"empty\":{}}");
}

TEST(JsonParserTest, ReadsWhatTheWriterWrites) {
  JsonWriter w;
  w.BeginObject().Key("s").String("q\"\\/\b\f\n\r\t\x1f ü 😀").Key("i").Int(-42).EndObject();
  const std::string text = std::move(w).Take();
  absl::StatusOr<JsonValue> v = ParseJson(text);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->Find("s")->string(), "q\"\\/\b\f\n\r\t\x1f ü 😀");
  EXPECT_EQ(v->Find("i")->integer(), -42);
}

TEST(JsonParserTest, DecodesEscapesAndSurrogatePairs) {
  absl::StatusOr<JsonValue> v = ParseJson(R"( {"a": "\u00e9\ud83d\ude00\/", "b": [1, 2.5e3]} )");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->Find("a")->string(), "é😀/");
  EXPECT_EQ(v->Find("b")->array()[0].integer(), 1);
  EXPECT_EQ(v->Find("b")->array()[1].integer(), std::nullopt);  // not an integer
  EXPECT_EQ(v->Find("b")->array()[1].number_text(), "2.5e3");
}

TEST(JsonParserTest, KeepsMemberOrderAndReadsTokensExactly) {
  absl::StatusOr<JsonValue> v =
      ParseJson(R"({"z":1,"token":18446744073709551615,"a":{"y":null,"b":[1.5e3,"x"]},"m":-1})");
  ASSERT_TRUE(v.ok()) << v.status();
  std::vector<std::string> names;
  for (const auto& [name, unused] : v->object()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"z", "token", "a", "m"}));  // as written
  // 2^64-1: beyond int64 and far beyond a double's 2^53, read exactly from the text.
  EXPECT_EQ(v->Find("token")->uint64(), 18446744073709551615u);
  EXPECT_EQ(v->Find("token")->integer(), std::nullopt);
  EXPECT_EQ(v->Find("m")->uint64(), std::nullopt);                        // negative
  EXPECT_EQ(v->Find("a")->Find("b")->array()[0].uint64(), std::nullopt);  // not an integer
  EXPECT_EQ(v->Find("a")->uint64(), std::nullopt);                        // not a number
  EXPECT_EQ(ParseJson("18446744073709551616")->uint64(), std::nullopt);   // 2^64: too big
  EXPECT_EQ(v->Find("a")->Find("nope"), nullptr);
  EXPECT_EQ(v->Find("z")->Find("z"), nullptr);  // not an object
  // Written back whole, order and number text unchanged.
  EXPECT_EQ(JsonText(*v),
            R"({"z":1,"token":18446744073709551615,"a":{"y":null,"b":[1.5e3,"x"]},"m":-1})");
}

TEST(JsonParserTest, LimitsAreTheCallers) {
  std::string wide = "[";
  for (int i = 0; i < 200; ++i) absl::StrAppend(&wide, i ? "," : "", i);
  wide += "]";
  EXPECT_NE(ParseJson(wide).status().message().find("too many elements"),
            absl::string_view::npos);  // request bodies: kJsonMembersMax
  EXPECT_TRUE(ParseJson(wide, JsonLimits{kJsonDepthMax, 200}).ok());
  EXPECT_NE(ParseJson(wide, JsonLimits{kJsonDepthMax, 199}).status().message().find("too many"),
            absl::string_view::npos);
  const std::string deep = std::string(20, '[') + std::string(20, ']');
  EXPECT_TRUE(ParseJson(deep, JsonLimits{20, kJsonMembersMax}).ok());
  EXPECT_NE(ParseJson(deep, JsonLimits{19, kJsonMembersMax}).status().message().find("deeply"),
            absl::string_view::npos);
}

TEST(JsonParserTest, RefusesEachMalformedTextNamingTheProblem) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "expected a value, found the end"},
      {"{", "expected a member name"},
      {R"({"a" 1})", "expected ':'"},
      {R"({"a": 1,})", "expected a member name"},
      {R"({"a": 1 "b": 2})", "expected ',' or '}'"},
      {R"({"a": 1, "a": 2})", "duplicate member \"a\""},
      {R"([1, 2)", "expected ',' or ']'"},
      {R"({"a": tru})", "expected a value"},
      {R"({"a": 01})", "expected ',' or '}'"},
      {R"({"a": -})", "malformed number"},
      {R"({"a": 1.})", "malformed number"},
      {R"({"a": 1e})", "malformed number"},
      {"{\"a\": \"x\ny\"}", "control character in string"},
      {R"({"a": "x)", "unterminated string"},
      {R"({"a": "\q"})", "unknown escape"},
      {R"({"a": "\u12"})", "bad hex digit"},
      {R"({"a": "\ud800"})", "high surrogate without its low half"},
      {R"({"a": "\udc00"})", "lone low surrogate"},
      {"{\"a\": \"\xc3\x28\"}", "invalid UTF-8"},
      {"{\"a\": \"\xed\xa0\x80\"}", "invalid UTF-8"},  // an encoded surrogate
      {R"({"a": 1} x)", "unexpected text after the JSON value"},
      {std::string(9, '[') + std::string(9, ']'), "nested too deeply"},
  };
  for (const auto& [text, message] : cases) {
    absl::StatusOr<JsonValue> v = ParseJson(text);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(v.status().message().find(message), absl::string_view::npos)
        << text << " -> " << v.status();
  }
  std::string many = "{";
  for (int i = 0; i < 65; ++i) absl::StrAppend(&many, i ? "," : "", "\"k", i, "\":1");
  EXPECT_NE(ParseJson(many + "}").status().message().find("too many members"),
            absl::string_view::npos);
}

TEST(ApiRequestTest, AcquireDefaultsAndTry) {
  absl::StatusOr<AcquireRequest> r = ParseAcquire(R"({"resource": "jobs/7"})", 30s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->resource, "jobs/7");
  EXPECT_EQ(r->ttl_ms, 10000);
  EXPECT_EQ(r->wait_ms, 10000);
  EXPECT_FALSE(r->auto_renew);
  r = ParseAcquire(R"({"resource": "a", "try": true, "wait_ms": 500, "auto_renew": true})", 30s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->wait_ms, 0);  // a try makes one attempt
  EXPECT_TRUE(r->auto_renew);
  // The default TTL never exceeds the node's longest lease.
  EXPECT_EQ(ParseAcquire(R"({"resource": "a"})", 3s)->ttl_ms, 3000);
  EXPECT_FALSE(ParseAcquire(R"({"resource": "a", "wait_ms": -1})", 30s).ok());
}

TEST(ApiRequestTest, HolderQueryIsPercentDecoded) {
  EXPECT_EQ(ResourceFromQuery("resource=jobs%2F7+x").value(), "jobs/7+x");
  EXPECT_FALSE(ResourceFromQuery("resource=a&resource=b").ok());
  EXPECT_FALSE(ResourceFromQuery("name=a").ok());
  EXPECT_FALSE(ResourceFromQuery("resource=").ok());
  EXPECT_FALSE(ResourceFromQuery("resource=%4").ok());
}

}  // namespace
}  // namespace lockmesh::tools
