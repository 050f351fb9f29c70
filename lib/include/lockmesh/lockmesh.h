// File: lockmesh/lockmesh.h
//
// The whole public API of lockmesh: include this one header.
#pragma once

#include "lockmesh/election.h"
#include "lockmesh/lease.h"
#include "lockmesh/log.h"
#include "lockmesh/metrics.h"
#include "lockmesh/node.h"
#include "lockmesh/options.h"
