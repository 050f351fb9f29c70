#include "lib/runtime/transport.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/core/check.h"
#include "lib/crypto/sealed_frame.h"
#include "lib/wire/batch.h"
#include "lib/wire/codec.h"

namespace lockmesh::runtime {

Transport::Transport(boost::asio::io_context& io, std::shared_ptr<const crypto::Keyring> keyring,
                     std::string cluster_name)
    : keyring_(std::move(keyring)), cluster_name_(std::move(cluster_name)), socket_(io) {
  nonce_ring_.assign(kReplayWindowDatagrams, 0);
  nonces_.reserve(kReplayWindowDatagrams);
}

absl::Status Transport::Bind(const udp::endpoint& endpoint) {
  boost::system::error_code ec;
  socket_.open(endpoint.protocol(), ec);
  if (!ec) socket_.bind(endpoint, ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    socket_.close(ec);
    return absl::UnavailableError(absl::StrCat("cannot bind UDP ", endpoint.address().to_string(),
                                               ":", endpoint.port(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

udp::endpoint Transport::local_endpoint() const {
  boost::system::error_code ec;
  return socket_.local_endpoint(ec);
}

void Transport::Close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

void Transport::Queue(const udp::endpoint& to, std::string message) {
  for (PeerQueue& q : queued_) {
    if (q.to == to) {
      q.messages.push_back(std::move(message));
      return;
    }
  }
  if (queued_.size() >= kBatchPeersMax) {
    wire::BatchBuilder one;
    one.Add(std::move(message));
    SealBatch(to, one.Finish(), 1);  // sent with the next Flush()
    return;
  }
  queued_.push_back(PeerQueue{to, {}});
  queued_.back().messages.push_back(std::move(message));
}

void Transport::Flush() {
  for (PeerQueue& q : queued_) {
    wire::BatchBuilder batch;
    for (std::string& m : q.messages) {
      if (!batch.Fits(m.size())) {
        const std::size_t n = batch.count();
        SealBatch(q.to, batch.Finish(), n);
      }
      LM_CHECK(batch.Fits(m.size()));
      batch.Add(std::move(m));
    }
    if (!batch.empty()) {
      const std::size_t n = batch.count();
      SealBatch(q.to, batch.Finish(), n);
    }
  }
  queued_.clear();
  SendSealed();
}

void Transport::SealBatch(const udp::endpoint& to, std::string plaintext, std::size_t messages) {
  absl::StatusOr<std::string> datagram = crypto::Seal(*keyring_, cluster_name_, plaintext);
  LM_CHECK(datagram.ok());  // the batch builder keeps within the sealing bound
  sealed_.push_back(Sealed{.to = to, .datagram = *std::move(datagram), .messages = messages});
}

void Transport::SendSealed() {
  // One sendmmsg for every datagram of the turn: a reply to two voters, or a burst of
  // answers, costs one system call rather than one each.
  const std::size_t total = sealed_.size();
  std::size_t next = 0;
  while (next < total) {
    const std::size_t n = std::min(total - next, kSendBatchDatagramsMax);
    std::array<mmsghdr, kSendBatchDatagramsMax> headers{};
    std::array<iovec, kSendBatchDatagramsMax> iov{};
    for (std::size_t i = 0; i < n; ++i) {
      Sealed& d = sealed_[next + i];
      iov[i] = iovec{.iov_base = d.datagram.data(), .iov_len = d.datagram.size()};
      headers[i].msg_hdr.msg_name = d.to.data();
      headers[i].msg_hdr.msg_namelen = static_cast<socklen_t>(d.to.size());
      headers[i].msg_hdr.msg_iov = &iov[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int sent =
        ::sendmmsg(socket_.native_handle(), headers.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) {  // 0 does not happen for a non-empty batch; never loop on it
      // The first datagram was refused (a full buffer, an unreachable address): counted, not
      // retried, as the protocol retransmits what matters; the rest still go.
      ++counters_.send_errors;
      ++next;
      continue;
    }
    for (int i = 0; i < sent; ++i) {
      const Sealed& d = sealed_[next + static_cast<std::size_t>(i)];
      ++counters_.datagrams_sent;
      counters_.bytes_sent += d.datagram.size();
      counters_.messages_sent += d.messages;
    }
    next += static_cast<std::size_t>(sent);
  }
  sealed_.clear();
}

bool Transport::FirstSighting(std::string_view datagram) {
  // Only called on opened frames: the nonce sits after the version and key id bytes. Its last
  // 16 bytes identify it: the sender's counter and 64 of its random prefix bits
  // (lib/crypto/nonce.h); two senders' nonces share them with odds of 2^-64, and a datagram
  // taken for a replay is only dropped, which the protocol tolerates.
  absl::uint128 nonce = 0;
  static_assert(crypto::kFrameNonceBytes >= sizeof(nonce));
  std::memcpy(
      &nonce,
      datagram.data() + 1 + crypto::kFrameKeyIdBytes + crypto::kFrameNonceBytes - sizeof(nonce),
      sizeof(nonce));
  if (!nonces_.insert(nonce).second) return false;
  nonces_.erase(nonce_ring_[nonce_next_]);
  nonce_ring_[nonce_next_] = nonce;
  nonce_next_ = (nonce_next_ + 1) % nonce_ring_.size();
  return true;
}

std::vector<core::Envelope> Transport::Unpack(std::string_view datagram) {
  std::vector<core::Envelope> out;
  ++counters_.datagrams_received;
  counters_.bytes_received += datagram.size();
  absl::StatusOr<std::string> plaintext = crypto::Open(*keyring_, cluster_name_, datagram);
  if (!plaintext.ok()) {
    switch (plaintext.status().code()) {
      case absl::StatusCode::kOutOfRange:
        ++counters_.dropped_oversized;
        break;
      case absl::StatusCode::kDataLoss:
        ++counters_.dropped_truncated;
        break;
      case absl::StatusCode::kUnimplemented:
        ++counters_.dropped_unknown_version;
        break;
      case absl::StatusCode::kNotFound:
        ++counters_.dropped_unknown_key;
        break;
      default:
        ++counters_.dropped_unauthenticated;
        break;
    }
    return out;
  }
  if (!FirstSighting(datagram)) {
    ++counters_.dropped_replayed;
    return out;
  }
  absl::StatusOr<std::vector<std::string>> messages = wire::DecodeBatch(*plaintext);
  if (!messages.ok()) {
    if (messages.status().code() == absl::StatusCode::kUnimplemented) {
      ++counters_.dropped_unknown_version;
    } else {
      ++counters_.dropped_malformed;
    }
    return out;
  }
  out.reserve(messages->size());
  for (const std::string& m : *messages) {
    absl::StatusOr<core::Envelope> env = wire::Decode(m);
    if (!env.ok()) {
      if (env.status().code() == absl::StatusCode::kUnimplemented) {
        ++counters_.dropped_unknown_version;
      } else {
        ++counters_.dropped_malformed;
      }
      continue;
    }
    ++counters_.messages_received;
    out.push_back(*std::move(env));
  }
  return out;
}

}  // namespace lockmesh::runtime
