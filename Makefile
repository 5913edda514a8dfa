# Two commands for a newcomer on Debian 12:  make run  and  make test
BUILD ?= build
MESON_FLAGS ?= --buildtype=release -Dwerror=true
SAMPLE ?= data/samples/cat.png

.PHONY: all deps setup build run cli test bench clean

all: build

deps:
	@sh tools/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

setup: deps $(BUILD)/build.ninja

build: setup
	meson compile -C $(BUILD)

run: build
	@if [ -x $(BUILD)/src/app/heatlens ]; then \
	  if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then echo "No display: run 'make cli' for the command line, or start a desktop session."; exit 1; fi; \
	  $(BUILD)/src/app/heatlens --image $(SAMPLE); \
	else \
	  $(BUILD)/src/cli/heatlens-cli predict --image $(SAMPLE); \
	fi

cli: build
	$(BUILD)/src/cli/heatlens-cli predict --image $(SAMPLE)

test: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2 || true
	@sh tools/test-summary.sh $(BUILD)/meson-logs/testlog.json

bench: build
	$(BUILD)/bench/bench-engine

clean:
	rm -rf $(BUILD)
