// File: runtime/transport.h
//
// The datagram layer of a node: protocol messages (already encoded by lib/wire) are batched
// per peer, sealed with the cluster keyring, and sent as UDP datagrams; received datagrams are
// opened, checked against a replay window, unbatched and decoded. Every datagram or message
// that fails a step is counted by reason and dropped; nothing here throws or crashes on input.
//
//   Transport t(io, keyring, "orders-prod");
//   t.Bind(endpoint);
//   t.Queue(peer, *wire::Encode(envelope));   // many times in one turn of the event loop
//   t.Flush();                                 // one datagram per peer (more if they overflow)
//   ...
//   std::vector<core::Envelope> in = t.Unpack(received_bytes);
//
// Batching: messages queued for one peer before Flush() share datagrams, each filled up to the
// sealed plaintext bound (core::kSealedPlaintextBytesMax) in queue order, so a node that
// answers a burst sends a few full datagrams rather than many small ones.
//
// Replays: a sealed frame carries a nonce never used before, so a datagram seen twice is a replay
// (or a duplicate from the network). The last kReplayWindowDatagrams nonces are remembered and
// a repeat is dropped; an older replay gets through and is harmless, because the protocol
// tolerates duplicates (DESIGN.md, "Wire and security").
//
// Thread safety: not thread-safe; the engine calls it from its strand only. The keyring is
// shared and internally synchronized (rotation from API threads is fine).
#pragma once

// clang-format off: Boost 1.74's awaitable.hpp needs <utility> first under GCC 12.
#include <utility>
// clang-format on

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "lib/core/messages.h"
#include "lib/crypto/keyring.h"
#include "lib/runtime/limits.h"
#include "lockmesh/metrics.h"

namespace lockmesh::runtime {

using boost::asio::ip::udp;

class Transport {
 public:
  Transport(boost::asio::io_context& io, std::shared_ptr<const crypto::Keyring> keyring,
            std::string cluster_name);

  // Opens and binds the socket (non-blocking). Unavailable with the system's reason.
  absl::Status Bind(const udp::endpoint& endpoint);
  udp::endpoint local_endpoint() const;
  udp::socket& socket() { return socket_; }
  void Close();

  // Queues one encoded message (REQUIRES: at most core::kEnvelopeBytesMax bytes) for `to`.
  void Queue(const udp::endpoint& to, std::string message);
  bool has_queued() const { return !queued_.empty() || !sealed_.empty(); }
  // Seals everything queued and sends it, all peers' datagrams in one sendmmsg call (more if
  // over kSendBatchDatagramsMax). A send the socket refuses is counted, not retried: the
  // protocol retransmits what matters.
  void Flush();

  // The envelopes of one received datagram (any bytes), in order. What cannot be used is
  // counted and dropped: a bad datagram yields nothing, a bad message inside a good datagram
  // only drops itself.
  std::vector<core::Envelope> Unpack(std::string_view datagram);

  const DatagramCounters& counters() const { return counters_; }

 private:
  struct PeerQueue {
    udp::endpoint to;
    std::vector<std::string> messages;
  };
  struct Sealed {
    udp::endpoint to;
    std::string datagram;
    std::size_t messages = 0;
  };
  void SealBatch(const udp::endpoint& to, std::string plaintext, std::size_t messages);
  void SendSealed();
  // False if the nonce was seen within the window; remembers it otherwise.
  bool FirstSighting(std::string_view datagram);

  std::shared_ptr<const crypto::Keyring> keyring_;
  const std::string cluster_name_;
  udp::socket socket_;
  std::vector<PeerQueue> queued_;  // few peers per turn: a vector beats a map
  std::vector<Sealed> sealed_;     // sealed, not yet sent
  std::vector<absl::uint128> nonce_ring_;
  std::size_t nonce_next_ = 0;
  absl::flat_hash_set<absl::uint128> nonces_;
  DatagramCounters counters_;
};

}  // namespace lockmesh::runtime
