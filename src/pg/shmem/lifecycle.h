// lifecycle.h: ties graphs in shared memory to transactions and to the life
// of their indexes: a graph built by an aborted CREATE INDEX is freed; DROP
// INDEX / TABLE / EXTENSION / DATABASE free graphs when they commit.
#pragma once

extern "C" {
#include "postgres.h"
}

#include "shmem/registry.h"

// Installs the transaction callbacks and the object access hook (_PG_init).
void lhv_lifecycle_init(void);

// A slot claimed by this transaction: freed if the (sub)transaction aborts.
void lhv_lifecycle_track_claim(const lhv::pg::RegistryEntry& entry);

// The claimed slot now outlives the transaction (a rebuild from the heap).
void lhv_lifecycle_untrack_claim(const lhv::pg::RegistryEntry& entry);
