// preload.h: loading every lhv graph at server start, so that the first
// query of an index finds its graph in memory, or waits for the load already
// under way instead of starting one (lhv.preload, as pg_prewarm's
// autoprewarm does for buffers).
//
// A static worker, `lhv preload`, starts once the server is consistent (on a
// primary when it opens, on a hot standby too). It lists the databases that
// accept connections (templates excluded) and runs, one database at a time,
// a worker connected to it that loads the graph of each valid lhv index in
// its own transaction; an index that fails to load is reported in the server
// log and the others still load. Then it exits: it does not run again after
// a crash re-initialises shared memory (graphs then load at first access),
// so a graph that crashed the server can never make it crash again and again.
#pragma once

// Registers the preload worker (from _PG_init, while preloading), if
// lhv.preload is on.
void lhv_preload_register(void);
