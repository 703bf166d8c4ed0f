# Makefile: builds, installs and regression-tests the lhv extension (PGXS).
#
#   make                 build lhv.so
#   make install         install into the PostgreSQL that pg_config names
#   make installcheck    pg_regress against a running server that preloads lhv
#   make check           pg_regress on a throwaway instance (scripts/test.sh does it as the right user)
#
# The engine's unit tests build with CMake (CMakeLists.txt), not here.

# lhv_pgvector (operator classes for pgvector's vector) is a second extension,
# so that lhv itself never requires pgvector.
EXTENSION = lhv lhv_pgvector
MODULE_big = lhv
# The one source of the version number is lhv.control.
EXTVERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(dir $(lastword $(MAKEFILE_LIST)))lhv.control)

CORE_SRCS = $(wildcard src/core/*.cpp)
PG_SRCS = $(wildcard src/pg/*.cpp src/pg/*/*.cpp)
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)
HEADERS = $(wildcard src/core/*.h) $(wildcard src/pg/*.h src/pg/*/*.h)

DATA = $(wildcard lhv--*.sql) $(wildcard lhv_pgvector--*.sql)
REGRESS = $(patsubst sql/%.sql,%,$(wildcard sql/*.sql))
REGRESS_OPTS = --load-extension=lhv

PG_CONFIG ?= pg_config

# C++ is compiled by PGXS's %.o: %.cpp rule with CXXFLAGS. No JIT bitcode:
# clang would need our C++ flags and the planner gains nothing from it.
override with_llvm = no
# Glue includes name their headers from src/pg ("shmem/registry.h") and the
# engine's from src ("core/hnsw_graph.h").
PG_CPPFLAGS = -I$(srcdir)/src/pg -I$(srcdir)/src
PG_CXXFLAGS = -std=c++17 -fPIC -O2 -g -Wall -Wextra -Wshadow -Werror=return-type \
	-DLHV_VERSION=\"$(EXTVERSION)\"
SHLIB_LINK = -lstdc++ -lpthread

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PostgreSQL 15's headers use `register`, which C++17 rejects with a warning,
# and their inline functions have unused parameters (as has every V1 function
# that ignores fcinfo): silence those for the glue only. The engine never sees
# a PostgreSQL header.
CXXFLAGS += $(PG_CXXFLAGS)
src/pg/%.o: CXXFLAGS += -Wno-register -Wno-missing-field-initializers -Wno-unused-parameter
$(OBJS): $(HEADERS)

.PHONY: print-version print-regress
print-version:
	@echo $(EXTVERSION)
# The pg_regress tests, for scripts/regress.sh.
print-regress:
	@echo $(REGRESS)
