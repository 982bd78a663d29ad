# SPDX-License-Identifier: GPL-2.0-only
# The two commands a new user needs:
#   make run   installs missing Debian packages, builds, runs the default scenario
#   make test  installs, builds, runs the whole suite (normal build, then ASan+UBSan build)
BUILD ?= build
BUILD_ASAN ?= build-asan
JOBS ?= $(shell nproc)
SCENARIO ?= scenarios/subblock-write-new-blocks.json
# Extra ctest arguments for the normal build's suite, e.g. CTEST_ARGS='-LE browser' to leave out
# the browser tests (they install chromium and playwright-core, which needs root and network).
CTEST_ARGS ?=

.PHONY: deps build run test test-fast test-asan bench coverage clean

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

test-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DDIOSIM_SANITIZE=ON -DDIOSIM_ZOO=OFF >/dev/null
	@cmake --build $(BUILD_ASAN) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(BUILD_ASAN) --output-on-failure -j$(JOBS) -LE browser

test: test-fast test-asan

bench: build
	./$(BUILD)/diosim-bench
	./$(BUILD)/diosim-bench-explore
	./$(BUILD)/diosim-bench-scale
	bash bench/zoo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) out

# Line coverage of the port (sim/dio/direct_io.cpp) by the shipped scenarios, with gcov.
coverage: deps
	@cmake -S . -B build-cov -DCMAKE_BUILD_TYPE=Debug -DDIOSIM_COVERAGE=ON >/dev/null
	@cmake --build build-cov -j$(JOBS) --target diosim
	@find build-cov -name '*.gcda' -delete
	@for f in scenarios/*.json; do [ "$$(basename $$f)" = schema.json ] || ./build-cov/diosim run $$f -q --trace /dev/null >/dev/null; done
	@cd build-cov/sim/CMakeFiles/diosim_dio.dir/dio && gcov -o . direct_io.cpp.gcda 2>/dev/null | grep -A1 "direct_io.cpp'"
	@grep -n '#####' build-cov/sim/CMakeFiles/diosim_dio.dir/dio/direct_io.cpp.gcov | grep 'AT(' || true
