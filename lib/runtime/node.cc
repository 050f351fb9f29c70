// lockmesh::Node: the public face of the engine, and the blocking forms of its calls.
#include "lockmesh/node.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "lib/crypto/init.h"
#include "lib/crypto/key.h"
#include "lib/runtime/blocking.h"
#include "lib/runtime/engine.h"

namespace lockmesh {
namespace {

using runtime::NotOnIoThread;
using runtime::Wait;

}  // namespace

struct Node::Thread {
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  std::thread thread;
};

absl::StatusOr<std::unique_ptr<Node>> Node::Start(NodeOptions options) {
  auto io = std::make_unique<boost::asio::io_context>(1);
  absl::StatusOr<std::unique_ptr<Node>> node = Start(std::move(options), *io);
  if (!node.ok()) return node.status();
  (*node)->own_io_ = std::move(io);
  boost::asio::io_context* raw = (*node)->own_io_.get();
  (*node)->thread_ = std::make_unique<Thread>(
      Thread{boost::asio::make_work_guard(*raw), std::thread([raw] { raw->run(); })});
  return node;
}

absl::StatusOr<std::unique_ptr<Node>> Node::Start(NodeOptions options,
                                                  boost::asio::io_context& io) {
  if (absl::Status st = crypto::InitCrypto(); !st.ok()) return st;
  absl::StatusOr<runtime::Settings> settings = runtime::MakeSettings(std::move(options));
  if (!settings.ok()) return settings.status();
  absl::StatusOr<std::shared_ptr<runtime::Engine>> engine =
      runtime::Engine::Create(*std::move(settings), io);
  if (!engine.ok()) return engine.status();
  (*engine)->Start();
  return std::unique_ptr<Node>(new Node(*std::move(engine), nullptr));
}

Node::Node(std::shared_ptr<runtime::Engine> engine, std::unique_ptr<boost::asio::io_context> own_io)
    : engine_(std::move(engine)), own_io_(std::move(own_io)) {}

Node::~Node() {
  Stop();
  if (thread_) {
    thread_->work.reset();
    own_io_->stop();
    if (thread_->thread.joinable()) thread_->thread.join();
  }
  // The engine's socket and timer belong to the io_context: let go of the engine first, so
  // that it dies at the latest with the io_context's last handlers, never after it.
  engine_.reset();
  own_io_.reset();
}

void Node::Stop() {
  if (engine_->stopped()) return;
  if (engine_->InIoThread()) {
    engine_->Stop([] {});
    return;
  }
  Wait<bool>(
      [this](auto done) { engine_->Stop([done = std::move(done)]() mutable { done(true); }); });
}

absl::StatusOr<Lease> Node::Acquire(std::string_view resource, AcquireOptions options) {
  if (absl::Status st = NotOnIoThread(*engine_); !st.ok()) return st;
  return Wait<absl::StatusOr<Lease>>([&](auto done) {
    engine_->Acquire(std::string(resource), std::move(options), "", std::move(done));
  });
}

absl::StatusOr<Lease> Node::TryAcquire(std::string_view resource, AcquireOptions options) {
  options.wait = std::chrono::milliseconds(0);
  return Acquire(resource, std::move(options));
}

void Node::AcquireAsync(std::string resource, AcquireOptions options, AcquireCallback done) {
  engine_->Acquire(std::move(resource), std::move(options), "", std::move(done));
}

absl::StatusOr<std::vector<Lease>> Node::AcquireAll(std::vector<std::string> resources,
                                                    AcquireOptions options) {
  if (absl::Status st = NotOnIoThread(*engine_); !st.ok()) return st;
  return Wait<absl::StatusOr<std::vector<Lease>>>([&](auto done) {
    engine_->AcquireAll(std::move(resources), std::move(options), std::move(done));
  });
}

void Node::AcquireAllAsync(std::vector<std::string> resources, AcquireOptions options,
                           AcquireAllCallback done) {
  engine_->AcquireAll(std::move(resources), std::move(options), std::move(done));
}

namespace {

// Parses `key_text`, applies one rotation step to the keyring, and logs it if it took.
absl::Status RotationStep(runtime::Engine& engine, std::string_view key_text,
                          absl::Status (crypto::Keyring::*step)(const crypto::Key&),
                          std::string_view event, std::string_view what) {
  absl::StatusOr<crypto::Key> key = crypto::ParseKey(key_text);
  if (!key.ok()) return key.status();
  absl::Status st = (engine.keyring().*step)(*key);
  if (st.ok()) {
    engine.LogFromAnyThread(
        LogLevel::kInfo, std::string(event),
        absl::StrCat(std::string(what), " key ", crypto::FormatKeyId(key->id())));
  }
  return st;
}

}  // namespace

absl::Status Node::AddKey(std::string_view key_text) {
  return RotationStep(*engine_, key_text, &crypto::Keyring::AddKey, "key.added", "accepting");
}

absl::Status Node::UseKey(std::string_view key_text) {
  return RotationStep(*engine_, key_text, &crypto::Keyring::UsePrimary, "key.primary",
                      "sealing with");
}

absl::Status Node::RemoveKey(std::string_view key_text) {
  return RotationStep(*engine_, key_text, &crypto::Keyring::RemoveKey, "key.removed",
                      "no longer accepting");
}

absl::Status Node::SetTags(std::map<std::string, std::string> tags) {
  if (absl::Status st = NotOnIoThread(*engine_); !st.ok()) return st;
  core::Tags core_tags(tags.begin(), tags.end());
  if (absl::Status st = core::ValidateTags(core_tags); !st.ok()) return st;
  return Wait<absl::Status>(
      [&](auto done) { engine_->SetTags(std::move(core_tags), std::move(done)); });
}

absl::StatusOr<std::vector<MemberView>> Node::Members() const {
  if (absl::Status st = NotOnIoThread(*engine_); !st.ok()) return st;
  return Wait<std::vector<MemberView>>([&](auto done) { engine_->GetMembers(std::move(done)); });
}

void Node::MembersAsync(absl::AnyInvocable<void(std::vector<MemberView>)> done) const {
  engine_->GetMembers(std::move(done));
}

Metrics Node::GetMetrics() const { return engine_->GetMetrics(); }
const std::string& Node::name() const { return engine_->name(); }
const std::string& Node::address() const { return engine_->address(); }
Node::executor_type Node::get_executor() const { return engine_->executor(); }

}  // namespace lockmesh
