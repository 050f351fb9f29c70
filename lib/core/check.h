// File: check.h
//
// LM_CHECK: a protocol invariant, kept on in release builds (they are cheap and
// a broken invariant in a lock service must stop the node, not corrupt a lease).
#pragma once

#include <cstdio>
#include <cstdlib>

#define LM_CHECK(cond)                                                                             \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "lockmesh invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)
