# SPDX-License-Identifier: GPL-2.0-only
# The two commands a new user needs:
#   make run   installs missing Debian packages, builds, runs the default scenario
#   make test  installs, builds, runs the whole suite (normal build, ASan+UBSan build, and a
#              short run of the parser fuzzers)
#   make fuzz-parsers  runs the parser fuzzers longer (FUZZ_RUNS scenarios, FUZZ_TOKEN_RUNS
#              tokens), keeping the corpus
BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_RUNS ?= 1000000
FUZZ_TOKEN_RUNS ?= 100000
JOBS ?= $(shell nproc)
SCENARIO ?= scenarios/subblock-write-new-blocks.json
# Extra ctest arguments for the normal build's suite, e.g. CTEST_ARGS='-LE browser' to leave out
# the browser tests (they install chromium and playwright-core, which needs root and network).
CTEST_ARGS ?=

.PHONY: deps build run test test-fast test-asan test-fuzz fuzz-build fuzz-parsers bench coverage clean

deps:
	@bash cmake/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	@mkdir -p out
	./$(BUILD)/diosim run $(SCENARIO) --trace out/default.trace.json

test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) $(CTEST_ARGS)

# -O1, as the ASan documentation advises: the suite runs about 4x faster than at -O0 (golden_test
# 40 s instead of 177 s) and keeps the sanitizers' reports.
test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g" \
	  -DDIOSIM_SANITIZE=ON -DDIOSIM_ZOO=OFF >/dev/null
	@cmake --build $(BUILD_ASAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_ASAN) --output-on-failure -j$(JOBS) -LE browser

# The libFuzzer targets (fuzz/): clang, ASan, only what they link. Their packages are installed
# here, not by `make run`.
fuzz-build:
	@DIOSIM_WITH_FUZZ=1 bash cmake/install-deps.sh
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=Release \
	  "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only" -DDIOSIM_FUZZ=ON -DDIOSIM_ZOO=OFF \
	  -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(BUILD_FUZZ) -j$(JOBS) --target fuzz-scenario fuzz-schedule-token

# A short fixed run of each parser fuzzer, seeded from the repository (part of make test).
test-fuzz: fuzz-build
	bash fuzz/run.sh $(BUILD_FUZZ) 3000 1000

# A long campaign; the corpora grow in $(BUILD_FUZZ)/corpus from one run to the next.
fuzz-parsers: fuzz-build
	bash fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_RUNS) $(FUZZ_TOKEN_RUNS) $(BUILD_FUZZ)/corpus

test: test-fast test-asan test-fuzz

bench: build
	./$(BUILD)/diosim-bench
	./$(BUILD)/diosim-bench-explore
	./$(BUILD)/diosim-bench-scale
	bash bench/zoo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) out

# Line coverage of the port (sim/dio/direct_io.cpp) by the shipped scenarios, with gcov.
coverage: deps
	@cmake -S . -B build-cov -DCMAKE_BUILD_TYPE=Debug -DDIOSIM_COVERAGE=ON >/dev/null
	@cmake --build build-cov -j$(JOBS) --target diosim
	@find build-cov -name '*.gcda' -delete
	@for f in scenarios/*.json; do [ "$$(basename $$f)" = schema.json ] || ./build-cov/diosim run $$f -q --trace /dev/null >/dev/null; done
	@cd build-cov/sim/CMakeFiles/diosim_dio.dir/dio && gcov -o . direct_io.cpp.gcda 2>/dev/null | grep -A1 "direct_io.cpp'"
	@grep -n '#####' build-cov/sim/CMakeFiles/diosim_dio.dir/dio/direct_io.cpp.gcov | grep 'AT(' || true
