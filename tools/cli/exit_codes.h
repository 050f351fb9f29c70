// File: tools/cli/exit_codes.h
//
// The exit codes of `lockmesh`, one per failure a script can act on differently, and the
// one place they are defined: `lockmesh --help` prints kExitCodeTable and docs/cli.md
// repeats it.
//
// Values: BSD sysexits.h codes where one names the failure (64..78), and 79, 80 for the two
// lock outcomes sysexits has no name for. Commands seldom exit in 64..80 (they use 0..2, 126,
// 127 and 128+signal), so a script can tell lockmesh's own failure from the command's
// status in almost every case; lockmesh also says which on stderr ("lockmesh: ...").
#pragma once

namespace lockmesh::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 64,             // EX_USAGE: bad flags, arguments or durations; a bad name
  kExitBadKey = 65,            // EX_DATAERR: the key file is unreadable or not a key
  kExitNodeNotRunning = 69,    // EX_UNAVAILABLE: no socket, connection refused, node stopping
  kExitInternal = 70,          // EX_SOFTWARE: a bug or an unexpected system error
  kExitStartFailed = 71,       // EX_OSERR: --join could not start its member (bind failed)
  kExitCannotCreate = 73,      // EX_CANTCREAT: keygen's file exists or cannot be written
  kExitNoQuorum = 75,          // EX_TEMPFAIL: no quorum, breaker open, node too busy
  kExitProtocol = 76,          // EX_PROTOCOL: the node's answer made no sense
  kExitPermission = 77,        // EX_NOPERM: not allowed to open the node's socket
  kExitConfig = 78,            // EX_CONFIG: --join's node flags are inconsistent
  kExitWaitTimedOut = 79,      // others held the lock for the whole --wait
  kExitLeaseLost = 80,         // the lease was lost while the command ran; it was killed
  kExitCannotExecute = 126,    // the command exists but could not be run (as env(1))
  kExitCommandNotFound = 127,  // the command was not found (as env(1))
};

inline constexpr const char* kExitCodeTable =
    "Exit codes:\n"
    "  0    success; `run` passes the command's status on (128+N if signal N killed it)\n"
    "  64   usage error: bad flags, arguments, durations or lock name\n"
    "  65   bad key: the key file is unreadable or holds no valid key\n"
    "  69   node not running: no socket, connection refused, or the node is stopping\n"
    "  70   internal error\n"
    "  71   --join could not start its member (address in use?)\n"
    "  73   keygen: the key file exists already or cannot be created\n"
    "  75   no quorum: a majority of voters did not answer (or the node is too busy)\n"
    "  76   the node's answer made no sense (version mismatch?)\n"
    "  77   permission denied on the node's socket\n"
    "  78   --join: the node flags are inconsistent\n"
    "  79   the wait ran out: others held the lock for all of --wait\n"
    "  80   the lease was lost while the command ran; the command was killed\n"
    "  126  the command could not be executed\n"
    "  127  the command was not found\n";

}  // namespace lockmesh::cli
