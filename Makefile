# Top-level entry points: `make demo` and `make test` (see README). Both install what is missing
# (Debian packages via apt-get, node test tools via `npm ci`), configure with CMake and build.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
ANALYZE_BUILD ?= build-analyze
JOBS ?= $(shell nproc)
CC ?= cc

# Debian packages the build, the tests and the demo need.
DEB_PKGS := build-essential cmake pkg-config git ca-certificates \
	libssl-dev libsecp256k1-dev libjansson-dev libcmocka-dev libsqlite3-dev \
	libmicrohttpd-dev libcurl4-openssl-dev libargon2-dev sqlcipher libsqlcipher-dev \
	valgrind clang libclang-rt-14-dev clang-tools-14 openssl python3 nodejs npm curl wrk faketime

.PHONY: all deps build build-asan test test-unit test-asan test-valgrind analyze mutation demo bench fuzz clean

all: build

deps: .stamp-deps node_modules/.package-lock.json

.stamp-deps: Makefile
	@missing=""; for p in $(DEB_PKGS); do \
	  if [ "$$p" = nodejs ] && command -v node >/dev/null; then continue; fi; \
	  if [ "$$p" = npm ] && command -v npm >/dev/null; then continue; fi; \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing Debian packages:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> npm ci (test oracles)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTKMS_SANITIZE=ON

build-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j$(JOBS)

test-unit: build
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure

test-asan: build-asan
	cd $(ASAN_BUILD) && ctest -j$(JOBS) --output-on-failure -LE 'slow|chaos'

test-valgrind: build
	cd $(BUILD) && ctest --output-on-failure -L valgrind

# Static analysis: clang's analyzer over every translation unit (scripts/analyze.sh); any finding
# fails. About 1.5 minutes on 2 cores.
analyze: deps
	scripts/analyze.sh $(ANALYZE_BUILD) $(JOBS)

# All tests: the static analyzer, the release build (unit, vectors, differential, ctime under
# valgrind), then the same C tests under ASan+UBSan.
test: build build-asan analyze
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure
	cd $(ASAN_BUILD) && ctest -j$(JOBS) --output-on-failure -LE 'slow|valgrind|chaos'

# Mutation testing (issue 19; not part of make test): every mutant of tests/mutation/*.txt
# against the tests that must kill it, on a scratch copy.
mutation: deps
	scripts/mutation.sh

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	$(BUILD)/tkms-bench

# libFuzzer targets (clang, ASan+UBSan), each run FUZZ_SECONDS from its committed corpus. Only the
# fuzz targets and what they link are built; the node test tools are not needed.
fuzz: .stamp-deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DTKMS_FUZZ=ON
	cmake --build build-fuzz -j$(JOBS) --target fuzz_targets
	scripts/fuzz.sh build-fuzz $${FUZZ_SECONDS:-60}

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(ANALYZE_BUILD) build-fuzz .stamp-deps
