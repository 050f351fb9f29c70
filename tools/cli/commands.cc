#include "tools/cli/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/crypto/key.h"
#include "tools/cli/api_client.h"
#include "tools/cli/failure.h"
#include "tools/cli/table.h"
#include "tools/limits.h"

namespace lockmesh::cli {

int Show(const Invocation& inv) {
  std::string target;
  switch (inv.verb) {
    case Verb::kStatus:
      target = "/v1/status";
      break;
    case Verb::kMembers:
      target = "/v1/members";
      break;
    default:
      target = absl::StrCat("/v1/holder?resource=", UrlEncode(inv.operand));
  }
  absl::StatusOr<std::string> path = FindSocket(inv.socket);
  if (!path.ok()) return Complain(path.status());
  absl::StatusOr<std::unique_ptr<ApiClient>> api = ApiClient::Connect(*path);
  if (!api.ok()) return Complain(api.status());
  absl::StatusOr<std::string> text =
      (*api)->CallText(boost::beast::http::verb::get, target, "",
                       std::chrono::milliseconds(tools::kCliRequestTimeoutMs));
  if (!text.ok()) return Complain(text.status());
  absl::StatusOr<tools::JsonValue> json = ParseAnswer(*text);
  if (!json.ok()) {
    return Complain(Fail(kExitProtocol,
                         absl::StrCat("the node's answer is not JSON: ", json.status().message())));
  }
  if (inv.json) {
    // The API's JSON as it came, for scripts (jq); one trailing newline.
    std::fputs(text->c_str(), stdout);
    if (text->empty() || text->back() != '\n') std::fputc('\n', stdout);
    return kExitOk;
  }
  // /v1/members is {"members": [...]} (or a bare array): a table either way.
  const tools::JsonValue* members = inv.verb == Verb::kMembers ? json->Find("members") : nullptr;
  if (members != nullptr) {
    std::fputs(TableOfObjects(*members).c_str(), stdout);
  } else if (json->type() == tools::JsonValue::Type::kArray) {
    std::fputs(TableOfObjects(*json).c_str(), stdout);
  } else {
    std::fputs(RenderReport(*json).c_str(), stdout);
  }
  return kExitOk;
}

int Keygen(const Invocation& inv) {
  const std::string& path = inv.operand;
  // O_EXCL: never over an existing file (or through a symlink planted there).
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return Complain(Fail(kExitCannotCreate,
                         err == EEXIST
                             ? absl::StrCat(path, " exists already; not overwriting it")
                             : absl::StrCat("cannot create ", path, ": ", std::strerror(err))));
  }
  const std::string text = crypto::GenerateKey().ToBase64() + "\n";
  // 0600 whatever the umask allowed at open (a umask only removes bits, but say it once).
  const bool ok = ::fchmod(fd, 0600) == 0 &&
                  ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Complain(
        Fail(kExitCannotCreate, absl::StrCat("cannot write ", path, ": ", std::strerror(err))));
  }
  return kExitOk;
}

}  // namespace lockmesh::cli
