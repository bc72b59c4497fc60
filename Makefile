# pgl: the two commands of the README do all set-up on a fresh Debian 12 machine (as root):
#   make demo   # install dependencies, build, run the demo on built-in phantom data
#   make test   # install dependencies, build, run every test (CTest)
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
DEMO_ARGS ?=

.PHONY: setup configure build test demo bench clean format

setup:
	@bash scripts/install-deps.sh

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: configure
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	@$(BUILD)/apps/pgl/pgl demo --out demo-out $(DEMO_ARGS)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
